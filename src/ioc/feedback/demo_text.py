"""Vietnamese wording of simulated feedback: what citizens write and what agencies answer.

Templates name their blanks: ``{where}`` (hamlet and commune), ``{hamlet}``, ``{commune}``,
``{road}`` (a road of that district), ``{since}``, ``{n}`` and ``{proc}``. An attribute value
``"*"`` takes the road type of the road picked for ``{road}``.
"""

from __future__ import annotations

from typing import Any

Template = tuple[str, dict[str, Any]]

REPORTS: dict[str, tuple[Template, ...]] = {
    "road": (
        (
            "Mặt đường {road} đoạn qua {where} có nhiều ổ gà lớn, trời mưa đọng nước, "
            "xe máy đi qua rất dễ ngã.",
            {"road_type": "*", "danger": "yes"},
        ),
        (
            "Đoạn {road} gần {hamlet} bị sụt lún khoảng {n} m, vết nứt đã lan ra giữa đường.",
            {"road_type": "*", "danger": "yes"},
        ),
        (
            "Cống thoát nước ngang đường tại {where} bị vỡ, đất đá lấp kín, "
            "nước tràn qua mặt đường.",
            {"road_type": "*"},
        ),
        (
            "Đường bê tông liên xóm ở {where} xuống cấp, bong tróc nhiều đoạn, "
            "học sinh đi lại khó khăn.",
            {"road_type": "commune", "danger": "no"},
        ),
        (
            "Cầu tràn qua suối ở {where} bị xói chân, lan can hư hỏng, đề nghị kiểm tra "
            "gia cố trước mùa mưa.",
            {"road_type": "commune", "danger": "yes"},
        ),
        (
            "Nắp hố ga trên {road} khu vực {where} bị vỡ, hở miệng hố, rất nguy hiểm "
            "cho người đi đường ban đêm.",
            {"road_type": "*", "danger": "yes"},
        ),
    ),
    "streetlight": (
        (
            "Cụm {n} bóng đèn chiếu sáng trên {road} đoạn qua {where} không sáng {since}, "
            "buổi tối đường tối om.",
            {"problem": "off"},
        ),
        ("Đèn đường tại {where} sáng cả ban ngày, rất lãng phí điện.", {"problem": "day"}),
        ("Đèn chiếu sáng ở {where} chập chờn, lúc sáng lúc tắt {since}.", {"problem": "flicker"}),
        (
            "Cột đèn chiếu sáng gần {hamlet} bị nghiêng sau trận mưa gió, dây điện hở, "
            "có nguy cơ đổ vào nhà dân.",
            {"problem": "pole"},
        ),
        (
            "Cả tuyến đèn chiếu sáng {road} đoạn qua {commune} bị tắt {since}, "
            "người dân đi lại buổi tối rất bất an.",
            {"problem": "off"},
        ),
    ),
    "waste": (
        (
            "Rác thải sinh hoạt tập kết tại {where} không được thu gom {since}, "
            "bốc mùi hôi thối, ruồi nhặng nhiều.",
            {},
        ),
        ("Có người đổ trộm phế thải xây dựng ra lề đường {road} đoạn qua {where}.", {}),
        ("Xe thu gom rác không đến {hamlet} theo lịch, rác ùn ứ tràn ra đường.", {}),
        (
            "Bãi rác tự phát ven suối gần {where} ngày càng lớn, mùa mưa rác trôi xuống dòng suối.",
            {},
        ),
        ("Thùng rác công cộng ở {where} bị hỏng, rác vương vãi ra vỉa hè.", {}),
    ),
    "pollution": (
        (
            "Lò gạch tại {where} xả khói đen nhiều, người dân xung quanh bị ảnh hưởng sức khỏe.",
            {"kind": ["air"]},
        ),
        (
            "Xưởng cưa gỗ ở {where} hoạt động đến khuya, tiếng ồn lớn ảnh hưởng sinh hoạt "
            "của bà con.",
            {"kind": ["noise"]},
        ),
        (
            "Trang trại chăn nuôi lợn gần {hamlet} xả nước thải chưa qua xử lý ra mương, "
            "bốc mùi hôi nồng nặc.",
            {"kind": ["water", "smell"]},
        ),
        (
            "Xe chở vật liệu đi qua {road} làm bụi mù mịt, đề nghị yêu cầu che phủ thùng xe "
            "và tưới nước mặt đường.",
            {"kind": ["air"]},
        ),
        (
            "Quán karaoke tại {where} hát to sau 22 giờ, gây mất trật tự khu dân cư.",
            {"kind": ["noise"]},
        ),
        (
            "Người dân đốt rơm rạ, rác thải ngoài đồng gần {where}, khói bay vào khu dân cư.",
            {"kind": ["air", "smell"]},
        ),
    ),
    "flood": (
        (
            "Mưa lớn kéo dài gây sạt lở taluy dương trên {road} đoạn qua {where}, đất đá tràn "
            "xuống một nửa mặt đường.",
            {"severity": "blocked"},
        ),
        (
            "Xuất hiện vết nứt lớn trên đồi phía sau {hamlet}, có nguy cơ sạt lở vào {n} hộ dân.",
            {"severity": "watch"},
        ),
        (
            "Nước suối dâng cao tràn qua ngầm tại {where}, người dân không qua lại được.",
            {"severity": "blocked"},
        ),
        (
            "Mưa lớn đêm qua làm ngập úng {where}, nước tràn vào nhiều nhà dân, "
            "hoa màu bị thiệt hại.",
            {"severity": "damage"},
        ),
        (
            "Sạt lở bờ suối đoạn qua {where}, một phần đất vườn và chuồng trại bị cuốn trôi.",
            {"severity": "damage"},
        ),
        (
            "Rãnh thoát nước bị tắc khiến nước mưa ngập sâu tại {where} mỗi khi có mưa to.",
            {"severity": "watch"},
        ),
    ),
    "construction": (
        (
            "Hộ gia đình tại {where} đang xây nhà lấn ra hành lang an toàn giao thông của {road}.",
            {},
        ),
        ("Công trình nhà ở tại {where} xây vượt số tầng so với giấy phép được cấp.", {}),
        (
            "Có người san gạt đất, xây dựng công trình trên đất nông nghiệp tại {where} "
            "mà không có giấy phép.",
            {},
        ),
        (
            "Công trình đang thi công ở {where} không che chắn, vật liệu rơi xuống đường "
            "gây mất an toàn.",
            {},
        ),
        ("Nhà xưởng tại {where} xây dựng không phép trên đất rừng sản xuất.", {}),
    ),
    "land": (
        (
            "Gia đình tôi ở {where} nộp hồ sơ cấp giấy chứng nhận quyền sử dụng đất đã quá hạn "
            "nhưng chưa được giải quyết.",
            {},
        ),
        (
            "Hộ liền kề tại {where} xây tường rào lấn sang đất nhà tôi khoảng {n} m², "
            "đề nghị chính quyền xác minh.",
            {},
        ),
        (
            "Đề nghị làm rõ việc thu hồi đất, bồi thường, hỗ trợ giải phóng mặt bằng "
            "dự án tại {where}.",
            {},
        ),
        ("Tranh chấp ranh giới đất rừng giữa các hộ ở {where} kéo dài chưa được hòa giải.", {}),
        (
            "Có hiện tượng lấn chiếm đất công, đất hành lang suối để trồng cây, dựng lán "
            "tại {where}.",
            {},
        ),
    ),
    "traffic": (
        ("Biển báo giao thông tại ngã ba {where} bị đổ, người đi đường không nhận biết được.", {}),
        (
            "Đèn tín hiệu giao thông tại nút giao trên {road} bị hỏng, các phương tiện "
            "đi lại lộn xộn.",
            {},
        ),
        (
            "Khúc cua trên {road} đoạn qua {where} thiếu biển cảnh báo, đã xảy ra "
            "nhiều vụ va chạm.",
            {},
        ),
        ("Vạch sơn kẻ đường trên {road} đoạn qua {commune} đã mờ hết, đề nghị sơn lại.", {}),
        ("Đề nghị lắp gương cầu lồi tại khúc cua khuất tầm nhìn ở {where}.", {}),
        (
            "Xe tải trọng lớn thường xuyên đi vào đường liên xóm ở {where}, làm hỏng đường "
            "và mất an toàn.",
            {},
        ),
    ),
    "security": (
        (
            "Nhóm thanh niên tụ tập đua xe, rú ga trên {road} vào ban đêm, gây mất an ninh "
            "trật tự.",
            {},
        ),
        ("Nghi có tụ điểm cờ bạc tại {where}, thường xuyên có người lạ ra vào.", {}),
        ("Liên tiếp xảy ra trộm cắp xe máy, gia súc tại {where} {since}.", {}),
        ("Có đối tượng nghi sử dụng ma túy tụ tập tại khu vực {where}.", {}),
        ("Hàng quán lấn chiếm vỉa hè, lòng đường tại {where} gây mất trật tự đô thị.", {}),
    ),
    "power": (
        ("Khu vực {where} mất điện {since} mà không có thông báo trước.", {}),
        (
            "Điện áp yếu tại {hamlet}, buổi tối bóng đèn không sáng, các thiết bị điện "
            "không hoạt động được.",
            {},
        ),
        (
            "Dây điện hạ thế tại {where} bị chùng võng thấp, cây cối cọ vào, nguy cơ chập cháy.",
            {},
        ),
        ("Cột điện tại {where} bị nghiêng sau mưa bão, đề nghị ngành điện kiểm tra khẩn cấp.", {}),
        ("Điện chập chờn liên tục tại {where}, làm hỏng nhiều thiết bị của người dân.", {}),
    ),
    "water": (
        ("Khu vực {where} mất nước sinh hoạt {since}, người dân phải đi xin nước.", {}),
        ("Nước máy ở {where} có màu đục, mùi lạ, người dân không dám sử dụng.", {}),
        ("Đường ống cấp nước bị vỡ tại {where}, nước chảy lênh láng ra đường.", {}),
        ("Mương thoát nước khu dân cư {where} bị tắc, nước thải ứ đọng bốc mùi.", {}),
        ("Công trình nước sạch tập trung của {hamlet} hư hỏng, bà con thiếu nước sinh hoạt.", {}),
    ),
    "tree": (
        ("Cây xanh trên {road} đoạn qua {where} bị đổ sau trận dông, chắn ngang đường.", {}),
        ("Cành cây lớn tại {where} có nguy cơ gãy rơi xuống đường, đề nghị cắt tỉa.", {}),
        ("Cây xanh trong công viên tại {commune} bị chặt phá, đề nghị kiểm tra xử lý.", {}),
        ("Cây ven đường tại {where} mọc sát đường dây điện, mùa mưa bão rất nguy hiểm.", {}),
        (
            "Khu vui chơi trong công viên ở {where} có nhiều thiết bị hư hỏng, không an toàn "
            "cho trẻ em.",
            {},
        ),
    ),
    "health": (
        (
            "Trạm y tế {commune} thường đóng cửa ngoài giờ, người dân cần cấp cứu "
            "không được hỗ trợ.",
            {},
        ),
        (
            "Cơ sở kinh doanh thực phẩm tại {where} không đảm bảo vệ sinh, nhiều người ăn xong "
            "bị đau bụng.",
            {},
        ),
        ("Xuất hiện nhiều ca sốt xuất huyết tại {where}, đề nghị phun thuốc diệt muỗi.", {}),
        (
            "Người bệnh phải chờ rất lâu khi khám bảo hiểm y tế tại bệnh viện, "
            "đề nghị cải thiện quy trình.",
            {},
        ),
        ("Nhà thuốc tại {where} bán thuốc kê đơn mà không cần đơn của bác sĩ.", {}),
    ),
    "education": (
        ("Phụ huynh phản ánh trường học tại {commune} thu nhiều khoản ngoài quy định.", {}),
        (
            "Phòng học của điểm trường {hamlet} xuống cấp, mái dột, không đảm bảo an toàn "
            "cho học sinh.",
            {},
        ),
        ("Đề nghị hỗ trợ học sinh ở {hamlet} phải đi bộ xa, qua suối để đến trường.", {}),
        ("Giáo viên tổ chức dạy thêm, học thêm không đúng quy định tại {commune}.", {}),
        ("Nhà vệ sinh của trường tại {where} hư hỏng, thiếu nước sạch.", {}),
    ),
    "social": (
        (
            "Gia đình tôi thuộc hộ cận nghèo ở {where} nhưng chưa được xét hỗ trợ theo chính sách.",
            {},
        ),
        (
            "Bố tôi là người có công với cách mạng, hồ sơ đề nghị trợ cấp nộp đã lâu "
            "chưa có kết quả.",
            {},
        ),
        ("Việc bình xét hộ nghèo tại {hamlet} chưa công khai, minh bạch.", {}),
        ("Người cao tuổi trên 80 tuổi ở {where} chưa nhận được trợ cấp xã hội {since}.", {}),
        ("Đề nghị hướng dẫn thủ tục hưởng bảo hiểm thất nghiệp cho người lao động mất việc.", {}),
    ),
    "admin": (
        (
            "Hồ sơ {proc} tôi nộp tại bộ phận một cửa {commune} đã quá hẹn nhưng chưa có kết quả.",
            {},
        ),
        (
            "Cán bộ tiếp nhận hồ sơ tại bộ phận một cửa {commune} thiếu niềm nở, "
            "hướng dẫn không rõ ràng.",
            {},
        ),
        ("Đề nghị hướng dẫn cụ thể thủ tục {proc}, tôi đi lại nhiều lần vẫn chưa đủ giấy tờ.", {}),
        ("Tôi nộp hồ sơ {proc} trực tuyến nhưng vẫn bị yêu cầu nộp thêm bản giấy.", {}),
        ("Bộ phận một cửa {commune} thường xuyên vắng cán bộ trong giờ làm việc.", {}),
    ),
    "telecom": (
        (
            "Sóng điện thoại di động tại {hamlet} rất yếu, không gọi được, con em học "
            "trực tuyến khó khăn.",
            {},
        ),
        ("Đề nghị kéo Internet cáp quang đến {where}.", {}),
        (
            "Cổng dịch vụ công của tỉnh thường bị lỗi khi nộp hồ sơ trực tuyến, "
            "không tải được tệp đính kèm.",
            {},
        ),
        (
            "Cáp viễn thông tại {where} bị chùng võng, treo thấp ngang đường, "
            "nguy hiểm cho xe cao.",
            {},
        ),
        ("Ứng dụng phản ánh hiện trường không gửi được ảnh, đề nghị kiểm tra.", {}),
    ),
    "other": (
        ("Đề nghị {commune} bố trí thêm sân chơi, nhà sinh hoạt cộng đồng cho {hamlet}.", {}),
        ("Chó thả rông tại {where} nhiều, đã có người bị cắn.", {}),
        ("Quảng cáo rao vặt dán tràn lan trên cột điện, tường nhà tại {where}.", {}),
        ("Đề nghị cung cấp thông tin về quy hoạch khu dân cư tại {where}.", {}),
        ("Góp ý: lễ hội tại {commune} cần quản lý tốt hơn việc trông giữ xe và giá dịch vụ.", {}),
    ),
}

# What the agency tells the citizen when it resolves the report.
ANSWERS: dict[str, tuple[str, ...]] = {
    "road": (
        "Đã vá ổ gà, hoàn trả mặt đường đoạn được phản ánh.",
        "Đơn vị quản lý đường bộ đã cắm biển cảnh báo và khắc phục tạm thời; "
        "sửa chữa dứt điểm trong kế hoạch duy tu.",
        "Đã nạo vét, sửa chữa cống thoát nước; giao thông trở lại bình thường.",
    ),
    "streetlight": (
        "Đã thay bóng, sửa tủ điện; hệ thống chiếu sáng hoạt động bình thường.",
        "Đã điều chỉnh lại thời gian bật tắt của tủ điều khiển chiếu sáng.",
        "Đã dựng lại cột đèn, bọc cách điện an toàn.",
    ),
    "waste": (
        "Đơn vị vệ sinh môi trường đã thu gom, vận chuyển hết rác tồn đọng.",
        "Đã điều chỉnh lịch thu gom và nhắc nhở đơn vị thu gom.",
        "UBND xã đã tổ chức dọn dẹp và cắm biển cấm đổ rác.",
    ),
    "pollution": (
        "Đoàn kiểm tra đã làm việc với cơ sở, lập biên bản và yêu cầu khắc phục.",
        "Cơ sở đã cam kết điều chỉnh giờ hoạt động, giảm tiếng ồn.",
        "Đã lấy mẫu quan trắc; cơ sở bị xử phạt và buộc xử lý nước thải.",
    ),
    "flood": (
        "Đã huy động lực lượng dọn đất đá, thông tuyến và cắm biển cảnh báo.",
        "Đã di dời các hộ dân khỏi vùng nguy cơ sạt lở, bố trí lực lượng trực.",
        "Đã khơi thông dòng chảy, nước đã rút.",
    ),
    "construction": (
        "Đã kiểm tra, lập biên bản đình chỉ thi công công trình vi phạm.",
        "Chủ đầu tư đã tự tháo dỡ phần xây dựng sai phép.",
        "Đã yêu cầu nhà thầu che chắn công trình, bảo đảm an toàn.",
    ),
    "land": (
        "UBND huyện đã có văn bản trả lời, hướng dẫn công dân hoàn thiện hồ sơ.",
        "Đã tổ chức hòa giải tại cơ sở, các bên thống nhất ranh giới.",
        "Đã kiểm tra thực địa và có văn bản trả lời công dân.",
    ),
    "traffic": (
        "Đã dựng lại biển báo, bổ sung biển cảnh báo.",
        "Đã sửa chữa đèn tín hiệu, hoạt động bình thường.",
        "Đã sơn lại vạch kẻ đường và lắp gương cầu lồi.",
    ),
    "security": (
        "Công an xã đã kiểm tra, giải tán và xử lý các đối tượng vi phạm.",
        "Đã tăng cường tuần tra, kiểm soát tại khu vực được phản ánh.",
        "Đã xác minh, xử lý vi phạm hành chính theo quy định.",
    ),
    "power": (
        "Điện lực đã khắc phục sự cố, cấp điện trở lại.",
        "Đã nâng công suất trạm biến áp, điện áp ổn định.",
        "Đã căng lại dây, phát quang hành lang lưới điện.",
    ),
    "water": (
        "Đã sửa chữa đường ống, cấp nước trở lại bình thường.",
        "Đã súc xả đường ống; kiểm tra chất lượng nước đạt quy chuẩn.",
        "Đã nạo vét, khơi thông mương thoát nước.",
    ),
    "tree": (
        "Đã cắt tỉa, dọn cây đổ, bảo đảm giao thông.",
        "Đã sửa chữa các thiết bị vui chơi trong công viên.",
        "Đã kiểm tra, xử lý vi phạm và trồng lại cây xanh.",
    ),
    "health": (
        "Sở Y tế đã kiểm tra, nhắc nhở và chấn chỉnh đơn vị.",
        "Đã phun hóa chất diệt muỗi, vệ sinh môi trường khu vực.",
        "Đoàn kiểm tra an toàn thực phẩm đã xử phạt cơ sở vi phạm.",
    ),
    "education": (
        "Đã yêu cầu nhà trường hoàn trả các khoản thu sai quy định.",
        "Đã bố trí kinh phí sửa chữa phòng học.",
        "Đã chấn chỉnh việc dạy thêm, học thêm.",
    ),
    "social": (
        "Đã rà soát, bổ sung vào danh sách hưởng chính sách.",
        "Đã có văn bản trả lời, hướng dẫn công dân thủ tục.",
        "Hồ sơ đã được giải quyết, chế độ đã được chi trả.",
    ),
    "admin": (
        "Đã trả kết quả hồ sơ và xin lỗi công dân vì trễ hẹn.",
        "Đã chấn chỉnh, nhắc nhở cán bộ tiếp nhận.",
        "Đã hướng dẫn công dân đầy đủ thủ tục.",
    ),
    "telecom": (
        "Nhà mạng đã điều chỉnh trạm, tăng cường vùng phủ sóng.",
        "Đã khắc phục lỗi trên Cổng dịch vụ công.",
        "Đã thu hồi, căng lại cáp viễn thông.",
    ),
    "other": (
        "Đã tiếp thu ý kiến, giao đơn vị liên quan nghiên cứu.",
        "Đã kiểm tra, xử lý theo quy định.",
        "Đã cung cấp thông tin và trả lời công dân.",
    ),
}

INTROS: dict[str, tuple[str, ...]] = {
    "hotline": ("Công dân gọi đường dây nóng phản ánh: ", "Qua tổng đài, người dân cho biết: ", ""),
    "petition": ("Đơn phản ánh của công dân: ", "Theo đơn gửi Trung tâm: "),
    "email": ("Kính gửi Trung tâm điều hành thông minh. ", ""),
}
OUTROS = (
    "",
    "",
    " Đề nghị các cơ quan chức năng sớm kiểm tra, xử lý.",
    " Mong sớm được giải quyết.",
    " Xin cảm ơn!",
    " Đề nghị xử lý dứt điểm.",
    " Người dân đã phản ánh nhiều lần nhưng chưa được khắc phục.",
)
SINCE = (
    "từ tối qua",
    "mấy hôm nay",
    "đã hơn một tuần nay",
    "từ sáng nay",
    "hơn hai tuần nay",
    "từ đầu tháng",
)
PROCEDURES = (
    "chứng thực bản sao",
    "đăng ký hộ kinh doanh",
    "đăng ký khai sinh",
    "chuyển mục đích sử dụng đất",
    "cấp giấy phép xây dựng",
    "đăng ký kết hôn",
    "cấp đổi giấy phép lái xe",
)
# Words that name hamlets (xóm, bản) in Hòa Bình's Mường and Thái villages.
HAMLETS = (
    "Bưa",
    "Mít",
    "Chiềng",
    "Khả",
    "Mó",
    "Sào",
    "Vố",
    "Bái",
    "Đồi",
    "Trám",
    "Cọi",
    "Nà",
    "Lác",
    "Mường",
    "Bãi",
    "Sống",
    "Cháu",
    "Đồng Bảng",
    "Trên",
    "Dưới",
    "Mới",
    "Tân Lập",
    "Đoàn Kết",
)
# Streets of Hòa Bình city, and the national and provincial roads through each district
# (GSO district code → (road, Open311 road_type)).
CITY_STREETS = (
    "đường Cù Chính Lan",
    "đường Trần Hưng Đạo",
    "đường Chi Lăng",
    "đường An Dương Vương",
    "đường Hoàng Văn Thụ",
    "đường Lê Thánh Tông",
    "đường Trương Hán Siêu",
    "đường Lý Thường Kiệt",
)
DISTRICT_ROADS: dict[str, tuple[tuple[str, str], ...]] = {
    "148": (("Quốc lộ 6", "national"), ("Quốc lộ 70B", "national")),
    "150": (("tỉnh lộ 433", "provincial"),),
    "152": (("Quốc lộ 6", "national"), ("đường Hồ Chí Minh", "national")),
    "153": (("đường Hồ Chí Minh", "national"),),
    "154": (("Quốc lộ 6", "national"),),
    "155": (("Quốc lộ 6", "national"), ("Quốc lộ 12B", "national")),
    "156": (("Quốc lộ 6", "national"), ("Quốc lộ 15", "national")),
    "157": (("Quốc lộ 12B", "national"),),
    "158": (("Quốc lộ 12B", "national"),),
    "159": (("Quốc lộ 21", "national"), ("đường Hồ Chí Minh", "national")),
}
LOCAL_ROADS = (("đường liên xã", "district"), ("đường trục xã", "commune"))

PROGRESS_NOTES = (
    "Đã tiếp nhận, đang kiểm tra thực địa.",
    "Đã cử cán bộ xác minh nội dung phản ánh.",
    "Đơn vị đang phối hợp xử lý.",
)
REJECTIONS = (
    "Nội dung không thuộc thẩm quyền giải quyết; đã hướng dẫn công dân liên hệ "
    "cơ quan có thẩm quyền.",
    "Thông tin phản ánh không đủ để xác minh (không rõ địa điểm); đề nghị công dân cung cấp thêm.",
    "Nội dung đã được trả lời dứt điểm tại văn bản trước đó.",
    "Vụ việc đang được tòa án thụ lý giải quyết.",
)
REOPEN_NOTE = "Công dân cho biết chưa được xử lý dứt điểm; yêu cầu đơn vị xử lý lại."
CLOSE_NOTE = "Công dân đã đánh giá kết quả; kết thúc phản ánh."
PRAISE = (
    "Cảm ơn các cơ quan đã xử lý nhanh chóng.",
    "Xử lý kịp thời, rất hài lòng.",
    "Cán bộ nhiệt tình, trách nhiệm.",
    "Cảm ơn!",
)
COMPLAINTS = (
    "Xử lý chậm, chưa triệt để.",
    "Mới khắc phục tạm thời.",
    "Chưa hài lòng với kết quả trả lời.",
)

# Family names weighted towards Hòa Bình's Mường (Bùi, Đinh, Quách) and Thái (Hà, Lò, Sa) people.
FAMILY_NAMES = (
    ("Bùi", 20),
    ("Nguyễn", 16),
    ("Đinh", 10),
    ("Quách", 5),
    ("Hà", 5),
    ("Trần", 5),
    ("Lê", 4),
    ("Phạm", 4),
    ("Hoàng", 4),
    ("Xa", 3),
    ("Lò", 2),
    ("Sa", 2),
    ("Vũ", 2),
    ("Đỗ", 2),
)
GIVEN_MEN = ("Văn An", "Văn Bình", "Văn Cường", "Văn Dũng", "Văn Hải", "Công Thắng", "Đức Minh")
GIVEN_WOMEN = ("Thị Hoa", "Thị Lan", "Thị Mai", "Thị Hương", "Thị Thu", "Thu Trang", "Thị Nga")
