"""Counters exposed at /metrics in the Prometheus text format."""

from __future__ import annotations

from collections import Counter

from collector.store.sqlite.writer import Writer


class Metrics:
    def __init__(self) -> None:
        self.accepted = 0
        self.duplicates = 0
        self.rejected: Counter[str] = Counter()  # per-event rejections by reason
        self.refused: Counter[int] = Counter()  # whole requests by status
        self.replay_chunks = 0

    def render(self, writer: Writer) -> str:
        stats = writer.stats
        lines = [
            "# HELP trailmark_events_accepted_total Events accepted (duplicates included).",
            "# TYPE trailmark_events_accepted_total counter",
            f"trailmark_events_accepted_total {self.accepted}",
            "# HELP trailmark_events_duplicate_total Accepted events already stored before.",
            "# TYPE trailmark_events_duplicate_total counter",
            f"trailmark_events_duplicate_total {self.duplicates}",
            "# HELP trailmark_events_rejected_total Events rejected, by reason.",
            "# TYPE trailmark_events_rejected_total counter",
            *(
                f'trailmark_events_rejected_total{{reason="{reason}"}} {n}'
                for reason, n in sorted(self.rejected.items())
            ),
            "# HELP trailmark_requests_refused_total Whole requests refused, by status.",
            "# TYPE trailmark_requests_refused_total counter",
            *(
                f'trailmark_requests_refused_total{{status="{status}"}} {n}'
                for status, n in sorted(self.refused.items())
            ),
            "# HELP trailmark_replay_chunks_total Replay chunks stored.",
            "# TYPE trailmark_replay_chunks_total counter",
            f"trailmark_replay_chunks_total {self.replay_chunks}",
            "# HELP trailmark_write_queue_depth Rows waiting for the writer.",
            "# TYPE trailmark_write_queue_depth gauge",
            f"trailmark_write_queue_depth {writer.depth}",
            "# HELP trailmark_commit_seconds Time of one group commit.",
            "# TYPE trailmark_commit_seconds histogram",
        ]
        # Each bucket already counts every commit at or under its bound (cumulative).
        for bound, count in stats.buckets.items():
            lines.append(f'trailmark_commit_seconds_bucket{{le="{bound}"}} {count}')
        lines += [
            f'trailmark_commit_seconds_bucket{{le="+Inf"}} {stats.commits}',
            f"trailmark_commit_seconds_sum {stats.commit_seconds:.6f}",
            f"trailmark_commit_seconds_count {stats.commits}",
            "# HELP trailmark_commit_failures_total Group commits that failed and were retried alone.",
            "# TYPE trailmark_commit_failures_total counter",
            f"trailmark_commit_failures_total {stats.failures}",
        ]
        return "\n".join(lines) + "\n"
