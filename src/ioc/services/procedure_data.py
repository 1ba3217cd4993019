"""The sectors of the procedure catalogue and their core procedures (a data table)."""

# ruff: noqa: E501
# fmt: off
from __future__ import annotations

from typing import NamedTuple


class Item(NamedTuple):
    vi: str
    en: str
    tier: str  # province | district | commune
    days: int
    fee: int = 0
    licence: bool = False  # gets re-issue / amendment / extension follow-ups


class Sector(NamedTuple):
    code: str
    vi: str
    en: str
    agency: str
    items: tuple[Item, ...]


I = Item  # noqa: E741 - keeps the table below readable
SECTORS: tuple[Sector, ...] = (
    Sector("DAT_DAI", "Đất đai", "Land", "STNMT", (
        I("Đăng ký, cấp Giấy chứng nhận quyền sử dụng đất lần đầu", "First registration and land-use right certificate", "district", 30, 100_000, True),
        I("Đăng ký biến động quyền sử dụng đất do chuyển nhượng", "Registering a land transfer", "district", 10, 50_000),
        I("Đăng ký biến động do thừa kế, tặng cho quyền sử dụng đất", "Registering land inheritance or donation", "district", 10, 50_000),
        I("Chuyển mục đích sử dụng đất", "Change of land-use purpose", "district", 15, 100_000),
        I("Tách thửa hoặc hợp thửa đất", "Splitting or merging land plots", "district", 15, 50_000),
        I("Đăng ký thế chấp quyền sử dụng đất", "Registering a land-use right mortgage", "district", 3, 80_000),
        I("Xóa đăng ký thế chấp quyền sử dụng đất", "Deregistering a land-use right mortgage", "district", 3, 20_000),
        I("Cung cấp thông tin, dữ liệu đất đai", "Land information and data", "district", 3, 30_000),
        I("Giao đất, cho thuê đất cho tổ chức", "Land allocation or lease to organisations", "province", 20, 0),
        I("Gia hạn sử dụng đất ngoài khu công nghệ cao", "Extending a land-use term", "province", 7, 0),
        I("Thu hồi đất do người sử dụng tự nguyện trả lại", "Voluntary return of land", "district", 20, 0),
        I("Hòa giải tranh chấp đất đai", "Mediating a land dispute", "commune", 30, 0),
    )),
    Sector("XAY_DUNG", "Xây dựng", "Construction", "SXD", (
        I("Cấp giấy phép xây dựng nhà ở riêng lẻ", "Building permit for a detached house", "district", 15, 75_000, True),
        I("Cấp giấy phép xây dựng công trình cấp II, III", "Building permit for grade II-III works", "province", 20, 150_000, True),
        I("Cấp giấy phép sửa chữa, cải tạo công trình", "Permit to repair or renovate a building", "district", 15, 75_000),
        I("Cấp giấy phép di dời công trình", "Permit to relocate a building", "province", 20, 150_000),
        I("Thẩm định báo cáo nghiên cứu khả thi đầu tư xây dựng", "Appraisal of a construction feasibility study", "province", 25, 0),
        I("Thẩm định thiết kế xây dựng triển khai sau thiết kế cơ sở", "Appraisal of detailed construction design", "province", 30, 0),
        I("Cấp chứng chỉ hành nghề hoạt động xây dựng hạng II, III", "Construction practising certificate, class II-III", "province", 20, 300_000, True),
        I("Cấp chứng chỉ năng lực hoạt động xây dựng", "Construction capacity certificate", "province", 20, 1_000_000, True),
        I("Thông báo nhà ở hình thành trong tương lai đủ điều kiện bán", "Off-plan housing eligible for sale", "province", 15, 0),
    )),
    Sector("HO_TICH", "Hộ tịch", "Civil status", "STP", (
        I("Đăng ký khai sinh", "Birth registration", "commune", 1, 0),
        I("Đăng ký khai tử", "Death registration", "commune", 1, 0),
        I("Đăng ký kết hôn", "Marriage registration", "commune", 1, 0),
        I("Đăng ký nhận cha, mẹ, con", "Registering parentage", "commune", 3, 15_000),
        I("Cấp Giấy xác nhận tình trạng hôn nhân", "Certificate of marital status", "commune", 3, 0),
        I("Đăng ký thay đổi, cải chính, bổ sung thông tin hộ tịch", "Amending civil-status records", "commune", 3, 15_000),
        I("Cấp bản sao trích lục hộ tịch", "Copy of a civil-status extract", "commune", 1, 8_000),
        I("Đăng ký khai sinh có yếu tố nước ngoài", "Birth registration with a foreign element", "district", 3, 100_000),
        I("Đăng ký kết hôn có yếu tố nước ngoài", "Marriage registration with a foreign element", "district", 15, 1_000_000),
        I("Đăng ký giám hộ", "Registering guardianship", "commune", 3, 0),
        I("Liên thông đăng ký khai sinh, thường trú, cấp thẻ bảo hiểm y tế cho trẻ dưới 6 tuổi", "Joint birth, residence and child health-insurance registration", "commune", 5, 0),
    )),
    Sector("DKKD", "Thành lập và hoạt động doanh nghiệp", "Business registration", "SKHDT", (
        I("Đăng ký thành lập công ty trách nhiệm hữu hạn một thành viên", "Founding a single-member limited company", "province", 3, 50_000),
        I("Đăng ký thành lập công ty trách nhiệm hữu hạn hai thành viên trở lên", "Founding a multi-member limited company", "province", 3, 50_000),
        I("Đăng ký thành lập công ty cổ phần", "Founding a joint-stock company", "province", 3, 50_000),
        I("Đăng ký thành lập doanh nghiệp tư nhân", "Founding a sole proprietorship", "province", 3, 50_000),
        I("Đăng ký thay đổi người đại diện theo pháp luật", "Changing the legal representative", "province", 3, 50_000),
        I("Đăng ký thay đổi vốn điều lệ", "Changing charter capital", "province", 3, 50_000),
        I("Thông báo tạm ngừng kinh doanh", "Notice of business suspension", "province", 3, 0),
        I("Giải thể doanh nghiệp", "Dissolving a company", "province", 5, 0),
        I("Đăng ký hoạt động chi nhánh, văn phòng đại diện", "Registering a branch or representative office", "province", 3, 50_000),
        I("Đăng ký thành lập hộ kinh doanh", "Registering a household business", "district", 3, 100_000, True),
        I("Đăng ký thành lập hợp tác xã", "Founding a cooperative", "district", 5, 100_000, True),
    )),
    Sector("DAU_TU", "Đầu tư", "Investment", "SKHDT", (
        I("Chấp thuận chủ trương đầu tư của UBND cấp tỉnh", "Provincial approval of an investment policy", "province", 35, 0),
        I("Cấp Giấy chứng nhận đăng ký đầu tư", "Investment registration certificate", "province", 15, 0, True),
        I("Chuyển nhượng dự án đầu tư", "Transferring an investment project", "province", 15, 0),
        I("Giãn tiến độ thực hiện dự án đầu tư", "Rescheduling an investment project", "province", 15, 0),
        I("Chấm dứt hoạt động dự án đầu tư", "Terminating an investment project", "province", 15, 0),
        I("Thẩm định nguồn vốn và khả năng cân đối vốn đầu tư công", "Appraisal of public investment funding", "province", 20, 0),
    )),
    Sector("GTVT", "Giao thông vận tải", "Transport", "SGTVT", (
        I("Đổi giấy phép lái xe do ngành Giao thông vận tải cấp", "Exchanging a driving licence", "province", 5, 135_000),
        I("Cấp lại giấy phép lái xe bị mất", "Replacing a lost driving licence", "province", 10, 135_000),
        I("Cấp giấy phép kinh doanh vận tải bằng xe ô tô", "Road transport business licence", "province", 5, 200_000, True),
        I("Cấp phù hiệu xe ô tô kinh doanh vận tải", "Commercial vehicle badge", "province", 2, 0, True),
        I("Cấp giấy phép thi công công trình trên đường bộ đang khai thác", "Permit for works on an operating road", "province", 7, 0, True),
        I("Cấp giấy phép lưu hành xe quá tải trọng, quá khổ", "Permit for oversize or overweight vehicles", "province", 2, 0, True),
        I("Chấp thuận xây dựng cùng thời điểm với cấp phép thi công nút giao", "Approval of a road junction", "province", 10, 0),
        I("Đăng ký phương tiện thủy nội địa lần đầu", "First registration of an inland vessel", "district", 3, 70_000, True),
        I("Cấp giấy phép đào tạo lái xe ô tô", "Driving-school licence", "province", 10, 0, True),
    )),
    Sector("TU_PHAP", "Tư pháp", "Justice", "STP", (
        I("Cấp Phiếu lý lịch tư pháp cho công dân Việt Nam", "Criminal record certificate for citizens", "province", 10, 200_000),
        I("Cấp Phiếu lý lịch tư pháp cho người nước ngoài", "Criminal record certificate for foreigners", "province", 15, 200_000),
        I("Chứng thực bản sao từ bản chính", "Certifying copies against originals", "commune", 1, 2_000),
        I("Chứng thực chữ ký trong giấy tờ, văn bản", "Certifying a signature", "commune", 1, 10_000),
        I("Chứng thực hợp đồng, giao dịch liên quan đến tài sản", "Certifying a property contract", "commune", 2, 50_000),
        I("Đăng ký hành nghề công chứng", "Registering notarial practice", "province", 10, 0, True),
        I("Thành lập Văn phòng công chứng", "Founding a notary office", "province", 20, 1_000_000),
        I("Cấp thẻ đấu giá viên", "Auctioneer card", "province", 5, 0, True),
        I("Công nhận báo cáo viên pháp luật", "Recognising a legal outreach speaker", "district", 5, 0),
        I("Thủ tục trợ giúp pháp lý", "Requesting legal aid", "province", 2, 0),
    )),
    Sector("LAO_DONG", "Lao động - Thương binh và Xã hội", "Labour and social affairs", "SLDTBXH", (
        I("Cấp giấy phép lao động cho người nước ngoài", "Work permit for a foreign worker", "province", 5, 600_000, True),
        I("Xác nhận người lao động nước ngoài không thuộc diện cấp giấy phép lao động", "Work-permit exemption", "province", 5, 0),
        I("Giải quyết hưởng trợ cấp thất nghiệp", "Unemployment benefit", "province", 20, 0),
        I("Hỗ trợ học nghề cho người hưởng trợ cấp thất nghiệp", "Vocational training for the unemployed", "province", 20, 0),
        I("Thực hiện, điều chỉnh, thôi hưởng trợ cấp xã hội hằng tháng", "Monthly social allowance", "district", 15, 0),
        I("Giải quyết chế độ trợ cấp một lần đối với người có công", "One-off allowance for people with merit", "province", 12, 0),
        I("Đăng ký nội quy lao động của doanh nghiệp", "Registering company labour rules", "province", 7, 0),
        I("Cấp giấy phép hoạt động dịch vụ việc làm", "Employment agency licence", "province", 10, 0, True),
        I("Cấp giấy phép hoạt động cho thuê lại lao động", "Labour sub-leasing licence", "province", 20, 0, True),
        I("Xác nhận hộ nghèo, hộ cận nghèo phát sinh trong năm", "Certifying poor or near-poor households", "commune", 10, 0),
    )),
    Sector("Y_TE", "Y tế", "Health", "SYT", (
        I("Cấp chứng chỉ hành nghề khám bệnh, chữa bệnh", "Medical practising certificate", "province", 20, 360_000, True),
        I("Cấp giấy phép hoạt động phòng khám đa khoa", "Licence of a polyclinic", "province", 45, 5_700_000, True),
        I("Cấp giấy phép hoạt động phòng khám chuyên khoa", "Licence of a specialist clinic", "province", 45, 4_300_000, True),
        I("Cấp chứng chỉ hành nghề dược", "Pharmacy practising certificate", "province", 10, 500_000, True),
        I("Cấp Giấy chứng nhận đủ điều kiện kinh doanh dược", "Pharmaceutical business eligibility certificate", "province", 30, 1_000_000, True),
        I("Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm", "Food safety certificate", "province", 20, 700_000, True),
        I("Công bố cơ sở đủ điều kiện sản xuất trang thiết bị y tế", "Declaring eligibility to make medical devices", "province", 3, 3_000_000),
        I("Tiếp nhận hồ sơ công bố sản phẩm thực phẩm", "Receiving a food product declaration", "province", 7, 1_500_000),
        I("Cấp giấy chứng sinh cho trường hợp bị mất", "Re-issuing a lost birth attestation", "district", 3, 0),
    )),
    Sector("GIAO_DUC", "Giáo dục và Đào tạo", "Education", "SGDDT", (
        I("Cấp bản sao văn bằng, chứng chỉ từ sổ gốc", "Copy of a diploma from the master register", "province", 1, 0),
        I("Chỉnh sửa nội dung văn bằng, chứng chỉ", "Correcting a diploma", "province", 5, 0),
        I("Công nhận văn bằng tốt nghiệp do cơ sở nước ngoài cấp", "Recognising a foreign diploma", "province", 20, 0),
        I("Cho phép trung tâm ngoại ngữ, tin học hoạt động giáo dục", "Licensing a language or IT centre", "province", 20, 0, True),
        I("Cấp giấy phép tổ chức hoạt động dạy thêm, học thêm", "Licence for extra tuition classes", "district", 10, 0, True),
        I("Thành lập trường mầm non tư thục", "Founding a private kindergarten", "district", 20, 0),
        I("Chuyển trường đối với học sinh trung học phổ thông", "Transferring a high-school student", "province", 3, 0),
        I("Xét tuyển sinh vào trường phổ thông dân tộc nội trú", "Admission to an ethnic boarding school", "province", 15, 0),
        I("Hỗ trợ chi phí học tập cho học sinh", "Study-cost support for pupils", "commune", 10, 0),
    )),
    Sector("TNMT", "Tài nguyên và Môi trường", "Environment and resources", "STNMT", (
        I("Cấp giấy phép môi trường", "Environmental permit", "province", 30, 0, True),
        I("Thẩm định báo cáo đánh giá tác động môi trường", "Appraisal of an environmental impact assessment", "province", 30, 0),
        I("Đăng ký môi trường", "Environmental registration", "district", 5, 0),
        I("Cấp giấy phép khai thác nước mặt", "Surface water abstraction licence", "province", 30, 2_000_000, True),
        I("Cấp giấy phép thăm dò nước dưới đất", "Groundwater exploration licence", "province", 30, 2_000_000, True),
        I("Cấp giấy phép xả nước thải vào nguồn nước", "Wastewater discharge licence", "province", 30, 2_000_000, True),
        I("Cấp giấy phép khai thác khoáng sản làm vật liệu xây dựng thông thường", "Licence to mine common building materials", "province", 90, 5_000_000, True),
        I("Đóng cửa mỏ khoáng sản", "Closing a mine", "province", 45, 0),
    )),
    Sector("TTTT", "Thông tin và Truyền thông", "Information and communications", "STTTT", (
        I("Cấp giấy phép xuất bản bản tin", "Licence to publish a newsletter", "province", 15, 0, True),
        I("Cấp giấy phép hoạt động in", "Printing licence", "province", 7, 0, True),
        I("Cấp giấy phép thiết lập trang thông tin điện tử tổng hợp", "Licence of a general news website", "province", 10, 0, True),
        I("Cấp giấy chứng nhận đăng ký cung cấp trò chơi điện tử G1", "Registration of a G1 online game", "province", 15, 0, True),
        I("Cấp giấy phép triển lãm tranh, ảnh và các hình thức thông tin khác", "Permit for an information exhibition", "province", 7, 0),
        I("Cấp giấy chứng nhận đủ điều kiện hoạt động điểm cung cấp dịch vụ trò chơi điện tử công cộng", "Public gaming venue certificate", "district", 5, 200_000, True),
        I("Khai báo hoạt động cơ sở dịch vụ photocopy", "Declaring a photocopy service", "district", 3, 0),
    )),
    Sector("VHTTDL", "Văn hóa, Thể thao và Du lịch", "Culture, sports and tourism", "SVHTTDL", (
        I("Cấp giấy phép kinh doanh dịch vụ lữ hành nội địa", "Domestic tour operator licence", "province", 10, 3_000_000, True),
        I("Công nhận hạng cơ sở lưu trú du lịch 1-2 sao", "Rating a 1-2 star hotel", "province", 30, 1_500_000),
        I("Cấp thẻ hướng dẫn viên du lịch nội địa", "Domestic tour guide card", "province", 10, 650_000, True),
        I("Cấp giấy phép kinh doanh dịch vụ karaoke", "Karaoke business licence", "district", 5, 4_000_000, True),
        I("Tổ chức lễ hội tại địa phương", "Holding a local festival", "district", 15, 0),
        I("Công nhận gia đình văn hóa, thôn văn hóa", "Recognising a cultural family or village", "commune", 5, 0),
    )),
    Sector("NONG_NGHIEP", "Nông nghiệp và Phát triển nông thôn", "Agriculture", "SNNPTNT", (
        I("Cấp giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm nông lâm thủy sản", "Agri-food safety certificate", "province", 15, 700_000, True),
        I("Cấp giấy chứng nhận đủ điều kiện buôn bán thuốc bảo vệ thực vật", "Pesticide trading certificate", "province", 20, 500_000, True),
        I("Cấp chứng chỉ hành nghề thú y", "Veterinary practising certificate", "province", 5, 100_000, True),
        I("Phê duyệt phương án khai thác thực vật rừng thông thường", "Approving a forest-plant harvest", "district", 10, 0),
        I("Hỗ trợ khôi phục sản xuất vùng bị thiệt hại do thiên tai", "Disaster recovery support for farms", "commune", 15, 0),
    )),
)
# fmt: on
