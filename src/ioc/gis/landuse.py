"""Vietnamese land-use codes (mã loại đất) of the cadastral records, and who may see holders."""

from __future__ import annotations

from ioc.core.auth import Principal

# Code → (Vietnamese name, English gloss); the codes of the cadastral map and land statistics.
LAND_USES: dict[str, tuple[str, str]] = {
    "LUC": ("Đất chuyên trồng lúa nước", "wet rice, two or more crops"),
    "LUK": ("Đất trồng lúa nước còn lại", "other wet rice"),
    "LUN": ("Đất lúa nương", "upland rice"),
    "BHK": ("Đất bằng trồng cây hàng năm khác", "other annual crops, flat land"),
    "NHK": ("Đất nương rẫy trồng cây hàng năm khác", "other annual crops, swidden"),
    "CLN": ("Đất trồng cây lâu năm", "perennial crops"),
    "RSX": ("Đất rừng sản xuất", "production forest"),
    "RPH": ("Đất rừng phòng hộ", "protection forest"),
    "RDD": ("Đất rừng đặc dụng", "special-use forest"),
    "NTS": ("Đất nuôi trồng thủy sản", "aquaculture"),
    "NKH": ("Đất nông nghiệp khác", "other agricultural land"),
    "ONT": ("Đất ở tại nông thôn", "rural residential"),
    "ODT": ("Đất ở tại đô thị", "urban residential"),
    "TSC": ("Đất xây dựng trụ sở cơ quan", "government offices"),
    "DGD": ("Đất xây dựng cơ sở giáo dục và đào tạo", "education"),
    "DYT": ("Đất xây dựng cơ sở y tế", "health care"),
    "DTT": ("Đất xây dựng cơ sở thể dục thể thao", "sports"),
    "CQP": ("Đất quốc phòng", "defence"),
    "CAN": ("Đất an ninh", "public security"),
    "SKK": ("Đất khu công nghiệp", "industrial zone"),
    "SKC": ("Đất cơ sở sản xuất phi nông nghiệp", "non-agricultural production"),
    "TMD": ("Đất thương mại, dịch vụ", "trade and services"),
    "DGT": ("Đất giao thông", "transport"),
    "DTL": ("Đất thủy lợi", "irrigation"),
    "DNL": ("Đất công trình năng lượng", "energy works"),
    "DBV": ("Đất công trình bưu chính, viễn thông", "post and telecoms"),
    "DKV": ("Đất khu vui chơi, giải trí công cộng", "public recreation"),
    "NTD": ("Đất nghĩa trang, nghĩa địa", "cemeteries"),
    "TON": ("Đất cơ sở tôn giáo", "religious"),
    "SON": ("Đất sông, ngòi, kênh, rạch, suối", "rivers and streams"),
    "MNC": ("Đất có mặt nước chuyên dùng", "special-use water surface"),
    "BCS": ("Đất bằng chưa sử dụng", "unused flat land"),
    "DCS": ("Đất đồi núi chưa sử dụng", "unused hilly land"),
}

HOLDER_ROLES = ("leader", "operator", "district_admin")  # admin always; land staff below
LAND_AGENCY = "STNMT"  # the land registration office sits under this department


def check_code(code: str) -> str:
    """The upper-case land-use code, or Invalid naming the field."""
    from ioc.core.problems import Invalid

    upper = code.strip().upper()
    if upper not in LAND_USES:
        raise Invalid("land_use", f"unknown land-use code {code!r} (e.g. ONT, ODT, LUC, CLN, RSX)")
    return upper


def is_land_staff(principal: Principal) -> bool:
    """Staff of the land registration office (agency scope holding STNMT)."""
    agencies = principal.scope.agency_codes
    return "agency_staff" in principal.roles and agencies is not None and LAND_AGENCY in agencies


def may_see_holders(principal: Principal) -> bool:
    """May this caller see land-use right holders at all (then only inside their place scope)?"""
    return principal.is_admin or principal.has(*HOLDER_ROLES) or is_land_staff(principal)


def may_edit_parcels(principal: Principal) -> bool:
    return principal.is_admin or is_land_staff(principal)
