"""Periodic reports in Vietnamese: indicators by district as XLSX (native chart) and PDF."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.problems import Invalid
from ioc.indicators import periods, queries
from ioc.indicators.models import Indicator

FONT = "DejaVuSans"
FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LIGHTS_VI = {"green": "Đạt", "amber": "Gần đạt", "red": "Chưa đạt", None: ""}


@dataclass(frozen=True)
class Column:
    code: str
    name: str
    unit: str
    province: queries.Reading


@dataclass(frozen=True)
class ReportTable:
    period: str
    province: str
    columns: list[Column]
    districts: list[str]
    cells: list[list[float | None]]  # one row per district, one cell per column


def build(session: Session, period: str, codes: list[str] | None = None) -> ReportTable:
    """The chosen indicators (default: all kept by the period's kind) for each district."""
    kind = periods.kind_of(period)
    query = select(Indicator).where(Indicator.period == kind).order_by(Indicator.code)
    if codes:
        query = query.where(Indicator.code.in_(codes))
    indicators = list(session.scalars(query))
    unknown = sorted(set(codes or []) - {i.code for i in indicators})
    if unknown:
        raise Invalid("indicators", f"unknown or not {kind}ly: {', '.join(unknown)}")
    province = queries.province_of(session)
    columns: list[Column] = []
    by_district: dict[str, list[float | None]] = {}
    names: dict[str, str] = {}
    for indicator in indicators:
        top, districts = queries.drill(session, indicator, province, period)
        columns.append(Column(indicator.code, indicator.name, indicator.unit, top))
        for reading in districts:
            names[reading.place_code] = reading.place_name
            by_district.setdefault(reading.place_code, []).append(reading.value)
    order = sorted(by_district)
    return ReportTable(
        period, province.name, columns, [names[c] for c in order], [by_district[c] for c in order]
    )


def title(table: ReportTable) -> str:
    return f"Báo cáo chỉ tiêu {table.province} — kỳ {table.period}"


def to_xlsx(table: ReportTable) -> bytes:
    """One sheet: districts × indicators, the province row, and a native bar chart."""
    book = Workbook()
    sheet: Worksheet = book.worksheets[0]
    sheet.title = "Báo cáo"
    sheet.append([title(table)])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(["Đơn vị"] + [f"{c.name} ({c.unit})" for c in table.columns])
    for name, row in zip(table.districts, table.cells, strict=True):
        sheet.append([name, *row])
    sheet.append(["Toàn tỉnh"] + [c.province.value for c in table.columns])
    sheet.append(["Mục tiêu"] + [c.province.target for c in table.columns])
    sheet.append(["Đánh giá"] + [LIGHTS_VI[c.province.light] for c in table.columns])
    sheet.column_dimensions["A"].width = 28
    if table.columns and table.districts:
        chart = BarChart()
        chart.title = table.columns[0].name
        chart.y_axis.title = table.columns[0].unit
        last = 2 + len(table.districts)
        chart.add_data(Reference(sheet, min_col=2, min_row=2, max_row=last), titles_from_data=True)
        chart.set_categories(Reference(sheet, min_col=1, min_row=3, max_row=last))
        chart.width, chart.height = 24, 10
        sheet.add_chart(chart, f"A{last + 6}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _font() -> str:
    """DejaVu Sans renders Vietnamese diacritics; Helvetica (the default) does not."""
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT, str(FONT_PATH)))
    return FONT


def _chart(column: Column, table: ReportTable, font: str) -> Drawing:
    drawing = Drawing(760, 210)
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 50, 700, 130
    index = table.columns.index(column)
    chart.data = [[row[index] or 0.0 for row in table.cells]]
    chart.categoryAxis.categoryNames = table.districts
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 6
    chart.categoryAxis.labels.angle = 20
    chart.valueAxis.labels.fontName = font
    chart.bars[0].fillColor = colors.HexColor("#1f77b4")
    drawing.add(chart)
    drawing.add(String(40, 195, f"{column.name} ({column.unit})", fontName=font, fontSize=10))
    return drawing


def _fmt(value: float | None) -> str:
    """A number as Vietnamese write it: 71.733,2 (dot for thousands, comma for decimals)."""
    if value is None:
        return "—"
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.translate(str.maketrans(",.", ".,"))


def to_pdf(table: ReportTable, charts: int = 3) -> bytes:
    """A landscape A4: one row per indicator, one column per district, the province, its
    target and light; then a bar chart by district of the first ``charts`` indicators."""
    font = _font()
    styles = getSampleStyleSheet()
    heading = styles["Title"].clone("vi-title", fontName=font)
    small = styles["Normal"].clone("vi-small", fontName=font, fontSize=6.5, leading=8)
    header = [Paragraph(h, small) for h in ("Chỉ tiêu", "Đơn vị", *table.districts)]
    header += [Paragraph(h, small) for h in ("Toàn tỉnh", "Mục tiêu", "Đánh giá")]
    body = [
        [Paragraph(column.name, small), Paragraph(column.unit, small)]
        + [_fmt(row[i]) for row in table.cells]
        + [
            _fmt(column.province.value),
            _fmt(column.province.target),
            LIGHTS_VI[column.province.light],
        ]
        for i, column in enumerate(table.columns)
    ]
    widths = [120, 40] + [44] * len(table.districts) + [48, 38, 42]
    grid = Table([header, *body], colWidths=widths, repeatRows=1)
    grid.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), font),
                ("FONTSIZE", (0, 0), (-1, -1), 6.5),
                ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
            ]
        )
    )
    story = [Paragraph(title(table), heading), grid, Spacer(1, 12)]
    for column in table.columns[:charts]:
        story += [_chart(column, table, font), Spacer(1, 6)]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=landscape(A4), title=title(table), leftMargin=20, rightMargin=20
    )
    document.build(story)
    return out.getvalue()


def brief(session: Session, period: str, lookback: int = 4) -> dict[str, object]:
    """For leaders: each indicator's latest province value (within ``lookback`` periods up to
    ``period``), the one before it, its target and light, and the weakest district."""
    province = queries.province_of(session)
    items: list[dict[str, object]] = []
    kind = periods.kind_of(period)
    for indicator in session.scalars(
        select(Indicator).where(Indicator.period == kind).order_by(Indicator.code)
    ):
        readings = queries.trend(session, indicator, province, period, lookback + 1)
        valued = [r for r in readings if r.value is not None]
        latest = valued[-1] if valued else readings[-1]
        before = valued[-2].value if len(valued) > 1 else None
        weakest = None
        if valued and indicator.level != "province":
            ranked = [
                r
                for r in queries.rank(session, indicator, province, latest.period)
                if r.value is not None
            ]
            weakest = ranked[-1].place_name if ranked else None
        items.append(
            {
                "code": indicator.code,
                "name": indicator.name,
                "unit": indicator.unit,
                "period": latest.period,
                "value": latest.value,
                "previous": before,
                "target": latest.target,
                "light": latest.light,
                "weakest": weakest,
            }
        )
    reds = [i["code"] for i in items if i["light"] == "red"]
    return {"period": period, "province": province.name, "red": reds, "indicators": items}
