"""The feedback catalogue of a Vietnamese province: what citizens report, who owns it, how fast."""

from __future__ import annotations

from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from ioc.core.models import Agency
from ioc.feedback.models import FeedbackService


class Category(NamedTuple):
    code: str
    name: str
    name_en: str
    group: str
    group_en: str
    agency: str  # the responsible department (agency_catalog codes)
    route_to: str  # department | district | commune: who handles it where it happens
    sla_days: int  # working days
    keywords: str
    attributes: tuple[dict[str, Any], ...] = ()


def choice(
    code: str,
    description: str,
    values: list[tuple[str, str]],
    *,
    required: bool = False,
    order: int = 1,
    many: bool = False,
) -> dict[str, Any]:
    """An Open311 list attribute; ``values`` are (key, name) pairs."""
    return {
        "variable": True,
        "code": code,
        "required": required,
        "order": order,
        "datatype": "multivaluelist" if many else "singlevaluelist",
        "datatype_description": "",
        "description": description,
        "values": [{"key": k, "name": n} for k, n in values],
    }


def text(code: str, description: str, *, required: bool = False, order: int = 1) -> dict[str, Any]:
    """An Open311 free-text attribute."""
    return {
        "variable": True,
        "code": code,
        "required": required,
        "order": order,
        "datatype": "string",
        "datatype_description": "",
        "description": description,
    }


YES_NO = [("yes", "Có / Yes"), ("no", "Không / No")]

CATEGORIES: tuple[Category, ...] = (
    Category(
        "road",
        "Đường, cầu, cống hư hỏng",
        "Damaged roads, bridges and culverts",
        "Hạ tầng giao thông",
        "Transport infrastructure",
        "SGTVT",
        "district",
        10,
        "ổ gà, sụt lún, cầu, cống, mặt đường, pothole",
        (
            choice(
                "road_type",
                "Loại đường / Road type",
                [
                    ("national", "Quốc lộ"),
                    ("provincial", "Tỉnh lộ"),
                    ("district", "Huyện lộ"),
                    ("commune", "Đường xã, thôn xóm"),
                    ("urban", "Đường đô thị"),
                ],
            ),
            choice("danger", "Gây nguy hiểm cho người đi đường? / Dangerous?", YES_NO, order=2),
        ),
    ),
    Category(
        "streetlight",
        "Đèn chiếu sáng công cộng",
        "Public streetlights",
        "Hạ tầng đô thị",
        "Urban infrastructure",
        "SXD",
        "district",
        3,
        "đèn đường, không sáng, cột đèn, streetlight",
        (
            choice(
                "problem",
                "Hiện tượng / Problem",
                [
                    ("off", "Không sáng"),
                    ("day", "Sáng ban ngày"),
                    ("flicker", "Chập chờn"),
                    ("pole", "Cột nghiêng, đổ, hở điện"),
                ],
                required=True,
            ),
            text("pole_id", "Số hiệu cột đèn (nếu có) / Pole number", order=2),
        ),
    ),
    Category(
        "waste",
        "Rác thải, vệ sinh môi trường",
        "Waste and sanitation",
        "Môi trường",
        "Environment",
        "STNMT",
        "district",
        3,
        "rác, bãi rác, thu gom, vệ sinh, garbage",
    ),
    Category(
        "pollution",
        "Ô nhiễm (khói, bụi, tiếng ồn, nước thải)",
        "Pollution (smoke, dust, noise, waste water)",
        "Môi trường",
        "Environment",
        "STNMT",
        "department",
        10,
        "ô nhiễm, khói, bụi, tiếng ồn, nước thải, mùi",
        (
            choice(
                "kind",
                "Loại ô nhiễm / Kind",
                [
                    ("air", "Không khí, khói bụi"),
                    ("noise", "Tiếng ồn"),
                    ("water", "Nước thải"),
                    ("smell", "Mùi hôi"),
                ],
                many=True,
            ),
        ),
    ),
    Category(
        "flood",
        "Ngập úng, sạt lở đất",
        "Flooding and landslides",
        "Phòng chống thiên tai",
        "Disaster prevention",
        "SNNPTNT",
        "district",
        2,
        "ngập, lụt, sạt lở, lũ quét, landslide",
        (
            choice(
                "severity",
                "Mức độ / Severity",
                [
                    ("watch", "Có nguy cơ"),
                    ("damage", "Đã gây thiệt hại"),
                    ("blocked", "Chia cắt, ách tắc"),
                ],
                required=True,
            ),
        ),
    ),
    Category(
        "construction",
        "Xây dựng trái phép, sai phép",
        "Illegal construction",
        "Trật tự xây dựng",
        "Building control",
        "SXD",
        "district",
        15,
        "xây dựng, không phép, sai phép, lấn chiếm",
    ),
    Category(
        "land",
        "Đất đai: lấn chiếm, tranh chấp, cấp giấy",
        "Land: encroachment, disputes, titles",
        "Đất đai",
        "Land",
        "STNMT",
        "district",
        20,
        "đất, lấn chiếm, tranh chấp, sổ đỏ, giấy chứng nhận",
    ),
    Category(
        "traffic",
        "An toàn giao thông: biển báo, đèn tín hiệu",
        "Traffic safety: signs and signals",
        "Hạ tầng giao thông",
        "Transport infrastructure",
        "SGTVT",
        "department",
        5,
        "biển báo, đèn tín hiệu, vạch sơn, tai nạn",
    ),
    Category(
        "security",
        "An ninh, trật tự công cộng",
        "Public order and security",
        "An ninh trật tự",
        "Public order",
        "CAT",
        "department",
        5,
        "trộm, gây rối, tụ tập, cờ bạc, ma túy",
    ),
    Category(
        "power",
        "Cấp điện",
        "Electricity supply",
        "Điện, nước",
        "Power and water",
        "DIENLUC",
        "department",
        3,
        "mất điện, điện yếu, đường dây, power cut",
    ),
    Category(
        "water",
        "Cấp nước, thoát nước",
        "Water supply and drainage",
        "Điện, nước",
        "Power and water",
        "SXD",
        "district",
        5,
        "mất nước, nước bẩn, cống thoát, vỡ ống",
    ),
    Category(
        "tree",
        "Cây xanh, công viên",
        "Trees and parks",
        "Hạ tầng đô thị",
        "Urban infrastructure",
        "SXD",
        "district",
        5,
        "cây đổ, cành gãy, công viên",
    ),
    Category(
        "health",
        "Y tế, an toàn thực phẩm",
        "Health and food safety",
        "Y tế",
        "Health",
        "SYT",
        "department",
        10,
        "bệnh viện, trạm y tế, ngộ độc, thực phẩm",
    ),
    Category(
        "education",
        "Giáo dục",
        "Education",
        "Giáo dục",
        "Education",
        "SGDDT",
        "department",
        10,
        "trường học, học phí, giáo viên",
    ),
    Category(
        "social",
        "Chính sách xã hội, người có công",
        "Social policy and welfare",
        "Xã hội",
        "Social affairs",
        "SLDTBXH",
        "department",
        15,
        "trợ cấp, người có công, hộ nghèo, bảo hiểm",
    ),
    Category(
        "admin",
        "Thủ tục hành chính, thái độ cán bộ",
        "Administrative procedures and officials' conduct",
        "Cải cách hành chính",
        "Administrative reform",
        "TTPVHCC",
        "department",
        10,
        "hồ sơ, thủ tục, trễ hẹn, cán bộ, một cửa",
        (text("dossier_code", "Mã hồ sơ (nếu có) / Dossier code"),),
    ),
    Category(
        "telecom",
        "Viễn thông, Internet, dịch vụ công trực tuyến",
        "Telecom, Internet and online public services",
        "Chuyển đổi số",
        "Digital transformation",
        "STTTT",
        "department",
        5,
        "sóng, internet, cổng dịch vụ công, mạng",
    ),
    Category(
        "other",
        "Phản ánh khác",
        "Other feedback",
        "Khác",
        "Other",
        "VP-UBND",
        "department",
        10,
        "khác",
    ),
)


def seed_catalogue(session: Session) -> int:
    """Create or refresh the catalogue; needs the agencies (``ioc agencies seed``) first."""
    agencies = set(session.scalars(select(Agency.code)))
    existing = {s.code: s for s in session.scalars(select(FeedbackService))}
    changed = 0
    for position, cat in enumerate(CATEGORIES):
        values = {
            "name": cat.name,
            "name_en": cat.name_en,
            "group": cat.group,
            "group_en": cat.group_en,
            "agency_code": cat.agency if cat.agency in agencies else None,
            "route_to": cat.route_to,
            "sla_days": cat.sla_days,
            "keywords": cat.keywords,
            "attributes": list(cat.attributes),
            "position": position,
            "description": cat.name,
            "description_en": cat.name_en,
        }
        service = existing.get(cat.code)
        if service is None:
            session.add(FeedbackService(code=cat.code, **values))
            changed += 1
            continue
        for key, value in values.items():
            if getattr(service, key) != value:
                setattr(service, key, value)
                changed += 1
    session.flush()
    return changed
