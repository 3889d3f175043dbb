"""The ClickHouse engine: chdb in the process (`chdb://DIR`) or a server or cluster
(`clickhouse://`, `clickhouses://`, `?cluster=NAME`) through clickhouse-connect."""

from collector.store.clickhouse.store import ClickHouseStore

__all__ = ["ClickHouseStore"]
