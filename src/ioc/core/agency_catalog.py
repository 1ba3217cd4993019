"""The agencies every Vietnamese province has: its People's Committee, departments, utilities."""

from __future__ import annotations

from typing import NamedTuple


class AgencySpec(NamedTuple):
    code: str
    kind: str
    name: str
    name_en: str


# Provincial departments under the 2021-2025 structure (Decree 107/2020/ND-CP); "{p}" is the
# province's short name.
PROVINCIAL_AGENCIES: tuple[AgencySpec, ...] = (
    AgencySpec("UBND-TINH", "provincial_pc", "UBND tỉnh {p}", "{p} Provincial People's Committee"),
    AgencySpec(
        "VP-UBND",
        "office",
        "Văn phòng UBND tỉnh {p}",
        "Office of the {p} Provincial People's Committee",
    ),
    AgencySpec("SNV", "department", "Sở Nội vụ", "Department of Home Affairs"),
    AgencySpec("STP", "department", "Sở Tư pháp", "Department of Justice"),
    AgencySpec(
        "SKHDT", "department", "Sở Kế hoạch và Đầu tư", "Department of Planning and Investment"
    ),
    AgencySpec("STC", "department", "Sở Tài chính", "Department of Finance"),
    AgencySpec("SCT", "department", "Sở Công Thương", "Department of Industry and Trade"),
    AgencySpec(
        "SNNPTNT",
        "department",
        "Sở Nông nghiệp và Phát triển nông thôn",
        "Department of Agriculture and Rural Development",
    ),
    AgencySpec("SGTVT", "department", "Sở Giao thông vận tải", "Department of Transport"),
    AgencySpec("SXD", "department", "Sở Xây dựng", "Department of Construction"),
    AgencySpec(
        "STNMT",
        "department",
        "Sở Tài nguyên và Môi trường",
        "Department of Natural Resources and Environment",
    ),
    AgencySpec(
        "STTTT",
        "department",
        "Sở Thông tin và Truyền thông",
        "Department of Information and Communications",
    ),
    AgencySpec(
        "SLDTBXH",
        "department",
        "Sở Lao động - Thương binh và Xã hội",
        "Department of Labour, Invalids and Social Affairs",
    ),
    AgencySpec(
        "SVHTTDL",
        "department",
        "Sở Văn hóa, Thể thao và Du lịch",
        "Department of Culture, Sports and Tourism",
    ),
    AgencySpec(
        "SKHCN", "department", "Sở Khoa học và Công nghệ", "Department of Science and Technology"
    ),
    AgencySpec(
        "SGDDT", "department", "Sở Giáo dục và Đào tạo", "Department of Education and Training"
    ),
    AgencySpec("SYT", "department", "Sở Y tế", "Department of Health"),
    AgencySpec("TTR", "department", "Thanh tra tỉnh", "Provincial Inspectorate"),
    AgencySpec("BDT", "department", "Ban Dân tộc", "Committee for Ethnic Minority Affairs"),
    AgencySpec(
        "BQLKCN",
        "department",
        "Ban Quản lý các khu công nghiệp",
        "Industrial Zones Management Board",
    ),
    AgencySpec("CAT", "police", "Công an tỉnh {p}", "{p} Provincial Police"),
    AgencySpec(
        "TTPVHCC",
        "service_centre",
        "Trung tâm Phục vụ hành chính công tỉnh {p}",
        "{p} Public Administration Service Centre",
    ),
    AgencySpec("DIENLUC", "service_provider", "Công ty Điện lực {p}", "{p} Power Company"),
    AgencySpec("VNPT", "service_provider", "VNPT {p}", "VNPT {p}"),
    AgencySpec("VIETTEL", "service_provider", "Viettel {p}", "Viettel {p}"),
)

# Agencies that sit under the People's Committee rather than beside it.
PARENT = {"VP-UBND": "UBND-TINH"}
