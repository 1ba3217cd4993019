"""The indicator catalogue the demo and a fresh province start with, targets from Resolution 8."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.problems import Invalid
from ioc.indicators.models import Indicator, IndicatorTarget


class Spec(NamedTuple):
    code: str
    name: str
    name_en: str
    domain: str
    unit: str
    level: str
    kind: str
    rollup: str
    agency: str | None
    computation: str | None = None
    targets: tuple[tuple[int, float, str], ...] = ()
    higher_is_better: bool = True


RES8 = "Nghị quyết 08/NQ-TU tỉnh Hòa Bình"

CATALOGUE: tuple[Spec, ...] = (
    Spec("GRDP", "Tổng sản phẩm trên địa bàn (GRDP)", "Gross regional domestic product",
         "kinh-te", "tỷ đồng", "district", "reported", "sum", "SKHDT"),
    Spec("GRDP-GROWTH", "Tốc độ tăng trưởng GRDP", "GRDP growth rate", "kinh-te", "%",
         "district", "reported", "mean", "SKHDT", targets=((2025, 8.0, "kế hoạch tỉnh"),)),
    Spec("CDS-DVC-MUC4", "Tỷ lệ dịch vụ công trực tuyến mức độ 4",
         "Share of public services online at level 4", "chuyen-doi-so", "%", "province",
         "computed", "ratio", "STTTT", "services_level4", targets=((2025, 100.0, RES8),)),
    Spec("CDS-CSDL", "Tỷ lệ cơ sở dữ liệu dùng chung được kết nối",
         "Share of shared databases connected", "chuyen-doi-so", "%", "province", "reported",
         "mean", "STTTT", targets=((2025, 100.0, RES8),)),
    Spec("CDS-THANHTRA", "Tỷ lệ hoạt động thanh tra, kiểm tra thực hiện trực tuyến",
         "Share of inspections done virtually", "chuyen-doi-so", "%", "province", "reported",
         "mean", "TTR", targets=((2025, 50.0, RES8),)),
    Spec("CDS-KTS", "Tỷ trọng kinh tế số trong GRDP", "Digital economy share of GRDP",
         "chuyen-doi-so", "%", "province", "reported", "mean", "SKHDT",
         targets=((2025, 20.0, RES8), (2030, 30.0, RES8))),
    Spec("CDS-KYSO", "Tỷ lệ văn bản đi được ký số", "Share of outgoing documents e-signed",
         "chuyen-doi-so", "%", "district", "computed", "ratio", "VP-UBND", "documents_signed",
         targets=((2025, 100.0, RES8),)),
    Spec("DVC-DUNGHAN", "Tỷ lệ hồ sơ giải quyết đúng hạn", "Dossiers completed on time",
         "dich-vu-cong", "%", "district", "computed", "ratio", "TTPVHCC", "dossier_on_time",
         targets=((2025, 97.0, "Đồng Xoài: trên 97 % đúng hạn"),)),
    Spec("DVC-TRUCTUYEN", "Tỷ lệ hồ sơ nộp trực tuyến", "Dossiers filed online",
         "dich-vu-cong", "%", "district", "computed", "ratio", "TTPVHCC", "dossier_online",
         targets=((2025, 50.0, "Quyết định 749/QĐ-TTg: 50 % hồ sơ trực tuyến"),)),
    Spec("DT-CHIEUSANG", "Tỷ lệ đèn chiếu sáng công cộng hoạt động", "Streetlight availability",
         "do-thi", "%", "commune", "computed", "ratio", "SXD", "streetlight_availability",
         targets=((2025, 98.0, "kế hoạch vận hành chiếu sáng đô thị"),)),
    Spec("PAKN-XULY", "Tỷ lệ phản ánh kiến nghị đã xử lý", "Feedback settled",
         "phan-anh", "%", "district", "computed", "ratio", "VP-UBND", "feedback_settled",
         targets=((2025, 90.0, "kế hoạch tỉnh"),)),
    Spec("PAKN-HAILONG", "Tỷ lệ người dân hài lòng", "Citizen satisfaction",
         "phan-anh", "%", "district", "computed", "ratio", "VP-UBND", "feedback_satisfaction",
         targets=((2025, 80.0, "kế hoạch tỉnh"),)),
    Spec("VT-BTS", "Tỷ lệ phủ sóng di động theo khu dân cư", "Mobile coverage of settlements",
         "vien-thong", "%", "district", "reported", "mean", "STTTT",
         targets=((2025, 100.0, RES8),)),
    Spec("VT-BANGRONG", "Thuê bao băng rộng cố định", "Fixed broadband subscribers",
         "vien-thong", "thuê bao", "district", "reported", "sum", "STTTT"),
    Spec("VT-CAPQUANG", "Chiều dài cáp quang", "Fibre optic lines", "vien-thong", "km",
         "district", "reported", "sum", "STTTT"),
    Spec("YT-GIUONG", "Số giường bệnh", "Hospital beds", "y-te", "giường", "district",
         "reported", "sum", "SYT"),
    Spec("GD-HOCSINH", "Số học sinh phổ thông", "School students", "giao-duc", "học sinh",
         "district", "reported", "sum", "SGDDT"),
    Spec("DL-KHACH", "Lượt khách du lịch", "Tourist visits", "du-lich", "lượt", "district",
         "reported", "sum", "SVHTTDL"),
    Spec("MT-RAC", "Tỷ lệ chất thải rắn sinh hoạt được thu gom", "Household waste collected",
         "moi-truong", "%", "district", "reported", "mean", "STNMT",
         targets=((2025, 95.0, "kế hoạch tỉnh"),)),
)  # fmt: skip


def install(session: Session, specs: tuple[Spec, ...] = CATALOGUE) -> int:
    """Create or refresh the catalogue's indicators and targets; returns how many changed."""
    existing = {i.code: i for i in session.scalars(select(Indicator))}
    changed = 0
    for spec in specs:
        fields = {
            "name": spec.name, "name_en": spec.name_en, "domain": spec.domain,
            "unit": spec.unit, "level": spec.level, "period": "quarter", "kind": spec.kind,
            "computation": spec.computation, "rollup": spec.rollup,
            "agency_code": spec.agency, "higher_is_better": spec.higher_is_better,
        }  # fmt: skip
        found = existing.get(spec.code)
        if found is None:
            session.add(Indicator(code=spec.code, **fields))
            changed += 1
        else:
            for key, value in fields.items():
                if getattr(found, key) != value:
                    setattr(found, key, value)
                    changed += 1
        session.flush()
        for year, target, source in spec.targets:
            set_target(session, spec.code, year, target, source=source)
    return changed


def set_target(
    session: Session,
    code: str,
    year: int,
    target: float,
    *,
    green: float = 100.0,
    amber: float = 90.0,
    source: str = "",
) -> IndicatorTarget:
    """Set a year's target and its light thresholds (attainment %: green ≥ green ≥ amber)."""
    if not amber <= green:
        raise Invalid("amber", "the amber threshold must not exceed the green one")
    row = session.scalar(
        select(IndicatorTarget).where(
            IndicatorTarget.indicator_code == code, IndicatorTarget.year == year
        )
    )
    if row is None:
        row = IndicatorTarget(indicator_code=code, year=year, target=target)
        session.add(row)
    row.target, row.green, row.amber, row.source = target, green, amber, source
    session.flush()
    return row


def attainment(value: float | None, target: float | None, higher_is_better: bool) -> float | None:
    """How far a value reaches its target, in %; for lower-is-better, target over value."""
    if value is None or target is None:
        return None
    if higher_is_better:
        return round(100 * value / target, 1) if target else None
    return round(100 * target / value, 1) if value else 100.0


def light(attained: float | None, green: float, amber: float) -> str | None:
    """The traffic light of an attainment: green, amber or red (None without a target)."""
    if attained is None:
        return None
    if attained >= green:
        return "green"
    return "amber" if attained >= amber else "red"
