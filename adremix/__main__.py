"""Operator commands: `python -m adremix ledger verify`, `python -m adremix credits grant ...`,
`python -m adremix payments refund-duplicates`, `python -m adremix config check`."""

from __future__ import annotations

import argparse
import sys
import uuid

from adremix.services import credits, payments
from adremix.settings import get_settings


def _verify(_: argparse.Namespace) -> int:
    audit = payments.audit_ledger()
    mismatches, problems = audit.mismatches, audit.refund_problems
    if not mismatches:
        print("ledger verify: every balance equals the sum of its entries.")
    else:
        print(f"ledger verify: {len(mismatches)} user(s) out of balance:", file=sys.stderr)
        for m in mismatches:
            print(
                f"  user {m.user_id} <{m.email}>: balance {m.balance}, "
                f"entries sum to {m.ledger_sum}",
                file=sys.stderr,
            )
    if not problems:
        print("ledger verify: every payment's clawbacks match its refunds.")
    else:
        print(f"ledger verify: {len(problems)} refund problem(s):", file=sys.stderr)
        for p in problems:
            print(f"  {p.receipt_number} {p.payment_id}: {p.problem}".rstrip(), file=sys.stderr)
    return 1 if mismatches or problems else 0


def _refund_duplicates(_: argparse.Namespace) -> int:
    try:
        done = payments.refund_duplicate_payments()
    except (payments.GatewayUnavailable, payments.GatewayRefused) as exc:
        print(f"payments refund-duplicates: {exc}", file=sys.stderr)
        return 1
    print(f"payments refund-duplicates: {done} duplicate payment(s) refunded.")
    return 0


def _config_check(_: argparse.Namespace) -> int:
    settings = get_settings()
    rows = settings.effective_values()
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"{name.ljust(width)}  {value}")
    mode = "production" if settings.is_production else "development"
    print(
        f"\nmode: {mode}; origins allowed to call the backend: "
        + (", ".join(settings.allowed_origins) or "none")
    )
    missing = settings.missing_for_production()
    if missing:
        print("config check: production cannot run without: " + ", ".join(missing), file=sys.stderr)
        return 1
    print("config check: ok")
    return 0


def _grant(args: argparse.Namespace) -> int:
    try:
        entry = credits.grant_by_operator(
            email=args.email,
            amount=args.amount,
            reason=args.reason,
            idempotency_key=args.key or f"admin:{uuid.uuid4()}",
        )
    except (credits.UnknownUser, credits.InsufficientCredits, ValueError) as exc:
        print(f"credits grant: {exc}", file=sys.stderr)
        return 1
    verb = "already applied" if entry.replayed else "applied"
    print(f"credits grant: {verb} {entry.amount:+d} to {args.email}; balance {entry.balance_after}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m adremix")
    areas = parser.add_subparsers(dest="area", required=True)

    ledger_parser = areas.add_parser("ledger", help="credit ledger checks")
    ledger_actions = ledger_parser.add_subparsers(dest="action", required=True)
    ledger_actions.add_parser(
        "verify",
        help="check every balance equals the sum of its entries, and refund clawbacks",
    ).set_defaults(run=_verify)

    payments_parser = areas.add_parser("payments", help="payment maintenance")
    payment_actions = payments_parser.add_subparsers(dest="action", required=True)
    payment_actions.add_parser(
        "refund-duplicates", help="refund duplicate payments whose refund has not gone through"
    ).set_defaults(run=_refund_duplicates)

    config_parser = areas.add_parser("config", help="settings")
    config_actions = config_parser.add_subparsers(dest="action", required=True)
    config_actions.add_parser(
        "check",
        help="print every setting's value in force (secrets masked); exit 1 when production "
        "lacks one it needs",
    ).set_defaults(run=_config_check)

    credits_parser = areas.add_parser("credits", help="operator credit adjustments")
    credit_actions = credits_parser.add_subparsers(dest="action", required=True)
    grant = credit_actions.add_parser("grant", help="grant (or, negative, take) credits")
    grant.add_argument("email")
    grant.add_argument("amount", type=int)
    grant.add_argument("--reason", required=True)
    grant.add_argument("--key", help="idempotency key, so a repeated command applies once")
    grant.set_defaults(run=_grant)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
