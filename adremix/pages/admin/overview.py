"""Overview: revenue, credits, generations and sign-ups over a chosen date range."""

import reflex as rx

from adremix.components.admin_shell import admin_page, export_form, field, figure, loading_note
from adremix.state.admin.overview import AdminOverviewState as S


def range_form() -> rx.Component:
    return rx.form(
        rx.hstack(
            field(
                "From",
                rx.input(type="date", name="from", id="range-from", default_value=S.start),
                "range-from",
            ),
            field(
                "To",
                rx.input(type="date", name="to", id="range-to", default_value=S.end),
                "range-to",
            ),
            rx.button("Show", type="submit", id="range-submit"),
            rx.foreach(S.presets, lambda p: rx.link(p["label"], href=p["href"], size="2")),
            align="end",
            spacing="3",
            wrap="wrap",
        ),
        on_submit=S.choose_range,
        key=S.start + S.end,
    )


def section(title: str, *children: rx.Component) -> rx.Component:
    return rx.vstack(rx.heading(title, size="4", as_="h2"), *children, spacing="3", width="100%")


def grid(*children: rx.Component) -> rx.Component:
    return rx.grid(
        *children, columns=rx.breakpoints(initial="1", sm="2", md="4"), spacing="3", width="100%"
    )


def chart(title: str, chart_id: str, *series: rx.Component, kind: str = "bar") -> rx.Component:
    make = rx.recharts.bar_chart if kind == "bar" else rx.recharts.line_chart
    return rx.card(
        rx.vstack(
            rx.text(title, weight="bold", size="2"),
            make(
                *series,
                rx.recharts.x_axis(data_key="day", interval="preserveStartEnd", font_size=11),
                rx.recharts.y_axis(width=56, font_size=11),
                rx.recharts.graphing_tooltip(),
                rx.recharts.legend(),
                data=S.days,
                height=240,
                width="100%",
            ),
            width="100%",
            id=chart_id,
        ),
        width="100%",
    )


@admin_page(route="/admin", title="Overview", on_load=[S.load])
def overview() -> rx.Component:
    return rx.vstack(
        rx.hstack(
            range_form(),
            rx.spacer(),
            export_form("overview", S.export_query),
            width="100%",
            align="end",
            wrap="wrap",
        ),
        loading_note(S.loading),
        section(
            "Revenue",
            grid(
                figure("Gross (invoiced)", S.cards["gross"], figure_id="figure-gross"),
                figure("Refunds (credit notes)", S.cards["refunds"], figure_id="figure-refunds"),
                figure("Net", S.cards["net"], figure_id="figure-net"),
                figure(
                    "GST collected", S.cards["gst"], "From the GST register", figure_id="figure-gst"
                ),
            ),
        ),
        section(
            "Credits",
            grid(
                figure("Sold", S.cards["sold"], figure_id="figure-sold"),
                figure(
                    "Consumed",
                    S.cards["consumed"],
                    "Spent on images, less refunds",
                    figure_id="figure-consumed",
                ),
                figure(
                    "Outstanding",
                    S.cards["outstanding"],
                    "Unspent at the range's end: the liability",
                    figure_id="figure-outstanding",
                ),
                figure("Taken back by refunds", S.cards["clawed"], figure_id="figure-clawed"),
            ),
        ),
        section(
            "Generations and sign-ups",
            grid(
                figure(
                    "Success rate",
                    S.cards["success_rate"],
                    "Of finished generations",
                    figure_id="figure-success",
                ),
                figure("Average latency", S.cards["average_latency"], figure_id="figure-latency"),
                figure("Failed / partly failed", S.cards["failed"], figure_id="figure-failed"),
                figure("Sign-ups", S.cards["signups"], figure_id="figure-signups"),
            ),
            rx.text(
                "95th percentile latency: ", S.cards["p95_latency"], size="2", color_scheme="gray"
            ),
        ),
        rx.grid(
            chart(
                "Revenue per day (₹)",
                "chart-revenue",
                rx.recharts.bar(data_key="gross", name="Gross", fill=rx.color("grass", 9)),
                rx.recharts.bar(data_key="refunds", name="Refunds", fill=rx.color("red", 9)),
            ),
            chart(
                "Sign-ups per day",
                "chart-signups",
                rx.recharts.line(
                    data_key="signups", name="Sign-ups", stroke=rx.color("violet", 9), dot=False
                ),
                kind="line",
            ),
            chart(
                "Credits per day",
                "chart-credits",
                rx.recharts.bar(data_key="sold", name="Sold", fill=rx.color("violet", 9)),
                rx.recharts.bar(data_key="consumed", name="Consumed", fill=rx.color("amber", 9)),
            ),
            chart(
                "Generations per day",
                "chart-generations",
                rx.recharts.bar(
                    data_key="succeeded", name="Succeeded", stack_id="g", fill=rx.color("grass", 9)
                ),
                rx.recharts.bar(
                    data_key="failed", name="Failed", stack_id="g", fill=rx.color("red", 9)
                ),
            ),
            columns=rx.breakpoints(initial="1", md="2"),
            spacing="3",
            width="100%",
        ),
        spacing="5",
        width="100%",
    )
