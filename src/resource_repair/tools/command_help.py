"""What ``resource-repair``'s help says beyond each option's own line: what the options for
a local fake accept, and the example that ends every command's ``--help``."""

from __future__ import annotations

import argparse

# What the options that point a command at a local fake accept; some commands declare
# them in their own modules.
_FAKE_OPTIONS = {
    "--sts-endpoint": "a fake STS on this machine instead of STS: fake-cloud's $FAKE_STS",
    "--config-endpoint": "a fake Config API on this machine instead of Config:"
    " fake-cloud's $FAKE_CONFIG",
    "--mns-endpoint": "a fake SMQ (MNS) on this machine instead of SMQ: fake-cloud's"
    " $mnsEndpointOverride without http://",
    "--ram-endpoint": "a fake RAM on this machine instead of RAM: fake-cloud's $FAKE_RAM",
    "--fc-endpoint": "a fake FC API on this machine instead of FC's: fake-cloud's $FAKE_FC",
    "--endpoint": "a fake OSS on this machine instead of OSS: fake-oss's or fake-cloud's"
    " address without http://",
    "--site": "the Cloud Config site (default: the template's configSite, else from its region)",
}


def document_fake_options(parser: argparse.ArgumentParser) -> None:
    """Give every option for a local fake a help line saying what it accepts: a user
    following the README must never need an option that --help does not explain."""
    for action in parser._actions:
        for option in action.option_strings:
            if option in _FAKE_OPTIONS and action.help in (None, argparse.SUPPRESS):
                loopback = option != "--site"
                action.help = _FAKE_OPTIONS[option] + (
                    " (HOST:PORT on loopback only, plain HTTP)" if loopback else ""
                )
                if loopback and action.metavar is None:
                    action.metavar = "HOST:PORT"


# One example per command, each working on a fresh clone (set up with `make demo`) from its
# root, as a shell script; tests/test_cli_examples.py runs every one. Those that need the
# cloud start `fake-cloud` first and stop it last; remote-invoke needs a deployed function.
_START_FAKE_CLOUD = (
    "resource-repair fake-cloud --bucket shop-site"
    " --rule test-oss-bucket-public-read-prohibited > fake-cloud.env &",
    "until grep -q FAKE_RAM fake-cloud.env 2>/dev/null; do sleep 0.2; done; . ./fake-cloud.env",
)
_STOP = ("kill %1",)
EXAMPLES: dict[str, tuple[str, ...]] = {
    "invoke": ("resource-repair invoke -f tests/events/noncompliance-oss-json-envelope.json",),
    "event": ("resource-repair event --bucket my-bucket --region cn-hangzhou -o event.json",),
    "remote-invoke": (
        "resource-repair remote-invoke -t template.yml"
        " -f tests/events/noncompliance-oss-json-envelope.json",
    ),
    "backfill": (
        *_START_FAKE_CLOUD,
        "resource-repair backfill --rule-name test-oss-bucket-public-read-prohibited"
        " --sts-endpoint $FAKE_STS --config-endpoint $FAKE_CONFIG"
        " --env ossEndpointOverride=$ossEndpointOverride",
        *_STOP,
    ),
    "whoami": (*_START_FAKE_CLOUD, "resource-repair whoami --sts-endpoint $FAKE_STS", *_STOP),
    "doctor": (
        *_START_FAKE_CLOUD,
        'FAKES="--sts-endpoint $FAKE_STS --config-endpoint $FAKE_CONFIG"',
        "resource-repair setup --apply $FAKES --ram-endpoint $FAKE_RAM",
        "resource-repair doctor --skip-deployed $FAKES --mns-endpoint ${mnsEndpointOverride#http://}",
        *_STOP,
    ),
    "restore": (
        *_START_FAKE_CLOUD,
        "resource-repair backfill --rule-name test-oss-bucket-public-read-prohibited --apply"
        " --env dryRun=false --sts-endpoint $FAKE_STS --config-endpoint $FAKE_CONFIG"
        " --env ossEndpointOverride=$ossEndpointOverride --report report.jsonl",
        "resource-repair restore --report report.jsonl --endpoint ${ossEndpointOverride#http://}"
        " --sts-endpoint $FAKE_STS",
        *_STOP,
    ),
    "setup": (
        *_START_FAKE_CLOUD,
        "resource-repair setup --sts-endpoint $FAKE_STS --config-endpoint $FAKE_CONFIG"
        " --ram-endpoint $FAKE_RAM",
        *_STOP,
    ),
    "sweep": (
        "resource-repair sweep --bucket shop-site --bucket old-downloads:ap-southeast-1:private",
    ),
    "fake-cloud": (*_START_FAKE_CLOUD, "cat fake-cloud.env", *_STOP),
    "fake-oss": (
        "resource-repair fake-oss --port 0 --bucket shop-site > fake-oss.url &",
        "until test -s fake-oss.url; do sleep 0.2; done",
        "resource-repair event --bucket shop-site --region ap-southeast-1 -o event.txt",
        "resource-repair invoke -f event.txt --env ossEndpointOverride=$(cat fake-oss.url)",
        *_STOP,
    ),
}
# Commands whose example needs what a fresh clone does not have.
EXAMPLE_NEEDS = {"remote-invoke": "after `s deploy -t template.yml`, with your keys"}


def example(name: str) -> str | None:
    lines = EXAMPLES.get(name)
    if lines is None:
        return None
    where = EXAMPLE_NEEDS.get(name, "from the clone, as a shell script")
    return f"example ({where}):\n" + "\n".join(f"  {line}" for line in lines)
