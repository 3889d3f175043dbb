"""The `trailmark` command: serve, sites, keys, members, rejected, experiments, triggers, demo, purge,
backup, store copy. One module per command group."""

from __future__ import annotations

import click

from collector.cli import maintenance
from collector.cli import triggers as trigger_cli
from collector.cli.experiments import experiments
from collector.cli.rejected import rejected
from collector.cli.serve import serve
from collector.cli.sites import sites
from collector.cli.team import keys, members
from collector.demo import commands as demo_commands
from collector.store import copy as store_commands


@click.group()
@click.version_option(package_name="trailmark-collector")
def main() -> None:
    """Trailmark: self-hosted customer-journey tracking."""


for command in (serve, sites, keys, members, rejected, demo_commands.demo, trigger_cli.triggers, experiments,
                maintenance.purge, maintenance.backup, store_commands.store):
    main.add_command(command)

if __name__ == "__main__":
    main()
