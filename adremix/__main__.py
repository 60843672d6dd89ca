"""Operator commands: `python -m adremix ledger verify`, `python -m adremix credits grant ...`,
`python -m adremix roles grant|revoke EMAIL ROLE`, `python -m adremix audit verify`,
`python -m adremix payments refund-duplicates`, `python -m adremix config check`,
`python -m adremix invoices verify|export|send-pending`, `python -m adremix quote create ...`
and, in test mode, `python -m adremix subscriptions simulate renewal|failure ID` and
`python -m adremix quote simulate-payment REF`; `python -m adremix worker` runs a job
worker process for the Redis queue; `python -m adremix remix SOURCE ...` remixes one image
into a folder."""

from __future__ import annotations

import argparse
import logging
import sys
import uuid
from decimal import Decimal, InvalidOperation
from pathlib import Path

from adremix.enums import Role
from adremix.services import admin, batch, billing, credits, generation, payments
from adremix.services.errors import UserFacingError
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
    gstin = billing.supplier_gstin_problem(settings.seller_gstin, settings.seller_state)
    if gstin:
        print(f"config check: {gstin}", file=sys.stderr)
        return 1
    print("config check: ok")
    return 0


def _grant(args: argparse.Namespace) -> int:
    try:
        done = admin.adjust_credits_by_operator(
            email=args.email,
            amount=args.amount,
            reason=args.reason,
            idempotency_key=args.key or f"cli:{uuid.uuid4()}",
        )
    except admin.AdminActionRefused as exc:
        print(f"credits grant: {exc}", file=sys.stderr)
        return 1
    verb = "already applied" if done.repeated else "applied"
    print(f"credits grant: {verb} {done.amount:+d} to {args.email}; balance {done.balance_after}")
    return 0


def _roles(args: argparse.Namespace) -> int:
    try:
        change = admin.set_role_by_operator(
            email=args.email, role=args.role, grant=args.action == "grant"
        )
    except admin.AdminActionRefused as exc:
        print(f"roles {args.action}: {exc}", file=sys.stderr)
        return 1
    if not change.changed:
        print(
            f"roles {args.action}: nothing to change; {args.email} is {change.role or 'not staff'}."
        )
    else:
        print(f"roles {args.action}: {args.email} is now {change.role or 'not staff'} (audited).")
    return 0


def _audit_verify(_: argparse.Namespace) -> int:
    report = admin.verify_chain()
    if report.problems:
        print(
            f"audit verify: the audit log was tampered with ({len(report.problems)} problem(s)):",
            file=sys.stderr,
        )
        for problem in report.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"audit verify: {report.entries} entr{'y' if report.entries == 1 else 'ies'}, every hash "
        f"and link holds; head is entry {report.head_seq}, {report.head_hash}"
    )
    return 0


def _invoices_verify(_: argparse.Namespace) -> int:
    audit = billing.verify_register()
    for warning in audit.warnings[:20]:
        print(f"  warning: {warning}")
    if audit.problems:
        print(f"invoices verify: {len(audit.problems)} problem(s):", file=sys.stderr)
        for problem in audit.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(
        f"invoices verify: {audit.documents} document(s); numbering consecutive and unique per "
        "financial year, one invoice per paid payment, one credit note per refund, totals add up."
    )
    return 0


def _invoices_export(args: argparse.Namespace) -> int:
    try:
        text = billing.gstr1_csv(fy=args.fy)
    except ValueError as exc:
        print(f"invoices export: {exc}", file=sys.stderr)
        return 2
    if args.out == "-":
        sys.stdout.write(text)
        return 0
    path = Path(args.out or f"gstr1-{args.fy}.csv")
    path.write_text(text, encoding="utf-8")
    totals = billing.gst_totals(fy=args.fy)
    print(f"invoices export: wrote {path} ({text.count(chr(10)) - 1} row(s)).")
    print(
        f"  {args.fy}: {totals.invoices} invoice(s), {totals.credit_notes} credit note(s); "
        f"taxable {credits.format_inr(totals.taxable, always_paise=True)}, "
        f"CGST {credits.format_inr(totals.cgst, always_paise=True)}, "
        f"SGST {credits.format_inr(totals.sgst, always_paise=True)}, "
        f"IGST {credits.format_inr(totals.igst, always_paise=True)}"
    )
    return 0


def _invoices_send(_: argparse.Namespace) -> int:
    report = billing.deliver_documents(retry_failed=True)
    print(f"invoices send-pending: {report.sent} sent, {report.failed} failed.")
    return 1 if report.failed else 0


def _rupees_to_paise(text: str) -> int:
    try:
        amount = Decimal(text.replace(",", ""))
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"not an amount in rupees: {text!r}") from exc
    paise = amount * 100
    if paise != paise.to_integral_value() or amount <= 0:
        raise argparse.ArgumentTypeError("give rupees with at most two decimals, e.g. 24999.50")
    return int(paise)


def _quote_create(args: argparse.Namespace) -> int:
    try:
        quote = payments.create_quote(
            email=args.email,
            credits=args.credits,
            amount_paise=args.amount_inr,
            gstin=args.gstin,
        )
    except UserFacingError as exc:
        print(f"quote create: {exc}", file=sys.stderr)
        return 1
    print(
        f"quote create: {quote.reference_id} for {quote.email}: {quote.credits} credits, "
        f"{credits.format_inr(quote.amount_paise, always_paise=True)} (GST included), payable "
        f"until {quote.expire_by:%d %b %Y}."
    )
    if quote.short_url:
        print(f"  payment link: {quote.short_url}")
    else:
        print(f"  test mode: python -m adremix quote simulate-payment {quote.reference_id}")
    return 0


def _quote_simulate(args: argparse.Namespace) -> int:
    try:
        simulated = payments.simulate_link_payment(reference_id=args.reference)
    except UserFacingError as exc:
        print(f"quote simulate-payment: {exc}", file=sys.stderr)
        return 1
    for event, outcome in simulated.events:
        print(f"quote simulate-payment: {event} -> {outcome}")
    return 0


def _subscriptions_simulate(args: argparse.Namespace) -> int:
    try:
        simulated = payments.simulate_renewal(
            subscription_id=args.subscription_id, succeed=args.what == "renewal"
        )
    except UserFacingError as exc:
        print(f"subscriptions simulate: {exc}", file=sys.stderr)
        return 1
    for event, outcome in simulated.events:
        print(f"subscriptions simulate: {event} -> {outcome}")
    return 0


def _worker(_: argparse.Namespace) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s [worker %(process)d] %(message)s"
    )
    settings = get_settings()
    settings.ensure_startable()
    generation.run_worker(settings)
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

    roles_parser = areas.add_parser("roles", help="admin console roles (admin, support)")
    role_actions = roles_parser.add_subparsers(dest="action", required=True)
    for verb, words in (("grant", "give"), ("revoke", "take away")):
        role = role_actions.add_parser(verb, help=f"{words} a role (the user signs in once first)")
        role.add_argument("email")
        role.add_argument("role", choices=[r.value for r in Role])
        role.set_defaults(run=_roles)

    audit_parser = areas.add_parser("audit", help="the admin audit log")
    audit_actions = audit_parser.add_subparsers(dest="action", required=True)
    audit_actions.add_parser(
        "verify", help="walk the hash chain; exit 1 if any entry was edited or removed"
    ).set_defaults(run=_audit_verify)

    credits_parser = areas.add_parser("credits", help="operator credit adjustments")
    credit_actions = credits_parser.add_subparsers(dest="action", required=True)
    grant = credit_actions.add_parser("grant", help="grant (or, negative, take) credits")
    grant.add_argument("email")
    grant.add_argument("amount", type=int)
    grant.add_argument("--reason", required=True)
    grant.add_argument("--key", help="idempotency key, so a repeated command applies once")
    grant.set_defaults(run=_grant)

    invoices_parser = areas.add_parser("invoices", help="GST tax invoices and credit notes")
    invoice_actions = invoices_parser.add_subparsers(dest="action", required=True)
    invoice_actions.add_parser(
        "verify", help="check numbering, one invoice per payment, one note per refund, totals"
    ).set_defaults(run=_invoices_verify)
    export = invoice_actions.add_parser("export", help="a GSTR-1 CSV of one financial year")
    export.add_argument("--fy", required=True, help="financial year, e.g. 2026-27")
    export.add_argument("--out", help="file to write (default gstr1-FY.csv; - for stdout)")
    export.set_defaults(run=_invoices_export)
    invoice_actions.add_parser(
        "send-pending", help="e-mail documents not sent yet, and retry those that failed"
    ).set_defaults(run=_invoices_send)

    quote_parser = areas.add_parser("quote", help="enterprise quotes paid by payment link")
    quote_actions = quote_parser.add_subparsers(dest="action", required=True)
    create = quote_actions.add_parser("create", help="create a Razorpay Payment Link for credits")
    create.add_argument("--email", required=True, help="the buyer's AdRemix account")
    create.add_argument("--credits", required=True, type=int)
    create.add_argument(
        "--amount-inr", required=True, type=_rupees_to_paise, help="total in rupees, GST included"
    )
    create.add_argument("--gstin", help="the buyer's GSTIN for the invoice")
    create.set_defaults(run=_quote_create)
    simulate_link = quote_actions.add_parser(
        "simulate-payment", help="test mode: the buyer pays the quote's link"
    )
    simulate_link.add_argument("reference")
    simulate_link.set_defaults(run=_quote_simulate)

    subscriptions_parser = areas.add_parser("subscriptions", help="subscription tools")
    subscription_actions = subscriptions_parser.add_subparsers(dest="action", required=True)
    simulate = subscription_actions.add_parser(
        "simulate", help="test mode: Razorpay renews the subscription, or the renewal fails"
    )
    simulate.add_argument("what", choices=["renewal", "failure"])
    simulate.add_argument("subscription_id")
    simulate.set_defaults(run=_subscriptions_simulate)
    remix = areas.add_parser(
        "remix",
        help="remix one image into a folder (images + result.json); no account, no credits",
    )
    remix.add_argument("source", help="the ad image (PNG, JPEG or WebP)")
    remix.add_argument("--instructions", required=True, help="how to remix it")
    kit = remix.add_mutually_exclusive_group()
    kit.add_argument("--brand-kit", help="a brand kit JSON file (see README)")
    kit.add_argument("--logo", help="a logo PNG/WebP (with --colors, instead of a kit file)")
    remix.add_argument("--colors", default="", help="hex colours: primary,secondary,accent,...")
    remix.add_argument("--headline", default="")
    remix.add_argument("--cta", default="", help="the call to action")
    remix.add_argument("--language", default="en", choices=list(generation.LANGUAGES))
    remix.add_argument(
        "--placement", nargs="+", choices=list(generation.PLACEMENTS), help="default: square"
    )
    remix.add_argument("--variations", type=int, default=1)
    remix.add_argument("--style", default="minimal", choices=list(generation.STYLES))
    remix.add_argument("--quality", default="medium", choices=list(generation.QUALITIES))
    remix.add_argument("--engine", default="offline", choices=["offline", "openai"])
    remix.add_argument("--out", required=True, help="the folder to write into")
    remix.set_defaults(run=_remix)
    areas.add_parser(
        "worker",
        help="run generation jobs from the Redis queue until SIGTERM (ADREMIX_JOB_QUEUE=redis)",
    ).set_defaults(run=_worker)
    return parser


def _remix(args: argparse.Namespace) -> int:
    options = generation.RemixOptions(
        instructions=args.instructions,
        template=args.style,
        quality=args.quality,
        variations=args.variations,
        headline=args.headline,
        call_to_action=args.cta,
        language=args.language,
        placement=(args.placement or ["square"])[0],
    )
    try:
        result = batch.remix_to_folder(
            source=Path(args.source),
            out_dir=Path(args.out),
            options=options,
            placements=args.placement or [],
            engine=args.engine,
            brand_file=Path(args.brand_kit) if args.brand_kit else None,
            logo=Path(args.logo) if args.logo else None,
            colors=args.colors,
        )
    except UserFacingError as exc:
        print(f"remix: {exc}", file=sys.stderr)
        return 2
    for name in result.files:
        print(Path(args.out) / name)
    for failure in result.failures:
        print(f"remix: failed: {failure}", file=sys.stderr)
    print(f"remix: {len(result.files)} image(s) and result.json in {args.out}")
    return 1 if result.failures else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
