"""The what-if page's words in English and Vietnamese, as data (issue 29 row 17): one catalogue keyed by
message id, each with ``en`` and ``vi``, and :func:`word` to look one up.

Why a catalogue and not strings in the page: a Vietnamese planner reads the page in Vietnamese, and a
message that exists in one language only would show English in the middle of a Vietnamese page without
anyone noticing; here a test checks that every id has both languages with the same ``{placeholders}``.
The catalogue covers the main path a planner uses (pick a scenario, levers and policies, run, read the
decision table, the tiles and the figures' panel titles). The figures' inner labels, the longer decision
sentences and the levers' schema names stay English; the Vietnamese page says so in one line
(``english_inside``). Customs and logistics terms are the standard ones: cửa khẩu (border gate), xe tải
(truck), hàng xuất khẩu / nhập khẩu, thời gian thông quan (clearance time), chi phí ròng (net cost),
khoảng tin cậy (confidence interval).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

EN, VI = "en", "vi"
LANGUAGES: dict[str, str] = {EN: "English", VI: "Tiếng Việt"}  # the switch's choices, in their own words
SWITCH_LABEL = "Language · Ngôn ngữ"  # both: whoever lands on the page in the wrong language can read it

WORDS: dict[str, dict[str, str]] = {
    # the page's head
    "title": {EN: "What-if: Lạng Sơn border gates", VI: "Phân tích giả định: các cửa khẩu Lạng Sơn"},
    "purpose": {
        EN: "Change a few levers of a Lang Son border scenario (servers, opening hours, daily caps, "
        "priorities, closures), run it against the unchanged base on the same random trucks, and read what "
        "the change does to clearance times, queues and costs, with 95% intervals.",
        VI: "Thay đổi một vài tham số của kịch bản biên giới Lạng Sơn (số bàn phục vụ, giờ làm việc, giới "
        "hạn xe mỗi ngày, thứ tự ưu tiên, ngày đóng cửa), chạy so với kịch bản gốc không đổi trên cùng các "
        "xe tải ngẫu nhiên, và xem thay đổi đó tác động thế nào đến thời gian thông quan, hàng đợi và chi "
        "phí, kèm khoảng tin cậy 95%.",
    },
    "english_inside": {
        EN: "The figures' inner labels, the longer decision sentences and the levers' names are in English.",
        VI: "Nhãn bên trong các biểu đồ, các câu nhận định chi tiết và tên các tham số giữ nguyên tiếng Anh.",
    },
    # the sidebar
    "base": {EN: "Base scenario", VI: "Kịch bản gốc"},
    "window": {EN: "Time window", VI: "Khoảng thời gian"},
    "replications": {EN: "Replications", VI: "Số lần lặp mô phỏng"},
    "seed": {EN: "Root seed", VI: "Hạt giống ngẫu nhiên gốc"},
    "policy_name": {EN: "Policy name", VI: "Tên chính sách"},
    "others": {EN: "Also compare with saved policies", VI: "So sánh thêm với các chính sách đã lưu"},
    "others_help": {
        EN: "Scenario files (saved policies) run beside this what-if on the same random trucks, over the "
        "same period; the results rank them all on the net cost to the province.",
        VI: "Các tệp kịch bản (chính sách đã lưu) được chạy cùng phân tích giả định này trên cùng các xe tải "
        "ngẫu nhiên, trong cùng khoảng thời gian; kết quả xếp hạng tất cả theo chi phí ròng cho tỉnh.",
    },
    "swing": {
        EN: "Show each policy's swing over its own assumptions",
        VI: "Hiển thị biên độ dao động của từng chính sách theo các giả định riêng của nó",
    },
    "plausible": {
        EN: "Compare across plausible winters too",
        VI: "So sánh thêm trên nhiều kịch bản mùa đông có thể xảy ra",
    },
    "plausible_help": {
        EN: "After the comparison at the scenario's own values, runs the base and every policy again over "
        "the same input sets drawn from the `uncertain:` ranges (the base's and each policy's own), with "
        "common inputs and random numbers (`bordersim robust`). The results then lead with each policy's "
        "chance of being the best, its expected and worst regret, and whether the ranking at the central "
        "values holds across the sets. Each input set costs one more comparison.",
        VI: "Sau khi so sánh tại các giá trị của kịch bản, chạy lại kịch bản gốc và mọi chính sách trên cùng "
        "các bộ đầu vào rút từ các khoảng `uncertain:` (của kịch bản gốc và của từng chính sách), với cùng "
        "đầu vào và cùng số ngẫu nhiên (`bordersim robust`). Kết quả khi đó mở đầu bằng xác suất mỗi chính "
        "sách là tốt nhất, mức hối tiếc kỳ vọng và lớn nhất, và thứ hạng tại giá trị trung tâm có còn đúng "
        "trên các bộ hay không. Mỗi bộ đầu vào tốn thêm một lần so sánh.",
    },
    "plausible_sets": {EN: "Input sets (plausible winters)", VI: "Số bộ đầu vào (mùa đông có thể xảy ra)"},
    "plausible_heading": {
        EN: "Across {sets} plausible winters",
        VI: "Trên {sets} kịch bản mùa đông có thể xảy ra",
    },
    "plausible_saved": {EN: "Saved in {folder}.", VI: "Đã lưu tại {folder}."},
    "plausible_runs": {
        EN: "{runs} runs across plausible winters",
        VI: "{runs} lần chạy trên các kịch bản mùa đông",
    },
    "swing_help": {
        EN: "Runs each policy twice more for each uncertain assumption of its own (an `uncertain:` range in "
        "its file that the base does not have): once at the low and once at the high end of that range, one "
        "assumption at a time, on the same random trucks (`bordersim compare --swing`). The effect panel "
        "then gives, beside each policy's effect, its least and most favourable value over those ranges, and "
        "the policy it would rank below at the unfavourable end. A policy without assumptions of its own "
        "adds no run (the levers of this page add none).",
        VI: "Chạy thêm mỗi chính sách hai lần cho mỗi giả định không chắc chắn của riêng nó (một khoảng "
        "`uncertain:` trong tệp của nó mà kịch bản gốc không có): một lần ở đầu thấp và một lần ở đầu cao "
        "của khoảng đó, từng giả định một, trên cùng các xe tải ngẫu nhiên (`bordersim compare --swing`). "
        "Phần tác động khi đó cho biết, bên cạnh tác động của mỗi chính sách, giá trị kém nhất và tốt nhất "
        "trên các khoảng đó, và chính sách mà nó sẽ xếp sau ở đầu bất lợi. Chính sách không có giả định "
        "riêng không cần chạy thêm (các tham số trên trang này không thêm lần chạy nào).",
    },
    "changed_count": {
        EN: "{n} value(s) changed from the base; everything else is inherited.",
        VI: "{n} giá trị đã thay đổi so với kịch bản gốc; mọi giá trị khác giữ nguyên.",
    },
    "save": {EN: "Save policy", VI: "Lưu chính sách"},
    "download_policy": {EN: "Download policy YAML", VI: "Tải tệp chính sách (YAML)"},
    "overwrite": {EN: "Overwrite {name}", VI: "Ghi đè {name}"},
    "save_wait": {
        EN: "Save and Download wait until every lever and option above is valid.",
        VI: "Chỉ lưu và tải được khi mọi tham số và tùy chọn ở trên đều hợp lệ.",
    },
    "reopen": {EN: "Reopen results", VI: "Mở lại kết quả"},
    "open": {EN: "Open", VI: "Mở"},
    # the run bar
    "run": {EN: "Run", VI: "Chạy"},
    "nothing_changed": {
        EN: "No lever is changed: the what-if would be the base itself. Change a lever, or pick saved "
        "policies to compare with the base.",
        VI: "Chưa thay đổi tham số nào: phân tích giả định sẽ trùng với kịch bản gốc. Hãy thay đổi một tham "
        "số, hoặc chọn các chính sách đã lưu để so sánh với kịch bản gốc.",
    },
    "only_saved_one": {
        EN: "No lever is changed: Run compares the base with the 1 saved policy picked only (no what-if of "
        "its own).",
        VI: "Chưa thay đổi tham số nào: nút Chạy chỉ so sánh kịch bản gốc với 1 chính sách đã lưu được chọn "
        "(không có phân tích giả định riêng).",
    },
    "only_saved": {
        EN: "No lever is changed: Run compares the base with the {n} saved policies picked only (no "
        "what-if of its own).",
        VI: "Chưa thay đổi tham số nào: nút Chạy chỉ so sánh kịch bản gốc với {n} chính sách đã lưu được "
        "chọn (không có phân tích giả định riêng).",
    },
    "cancel": {EN: "Cancel", VI: "Hủy"},
    "time_left": {EN: "Time left: about {left}", VI: "Thời gian còn lại: khoảng {left}"},
    # a run's results
    "results": {EN: "Results: {name}", VI: "Kết quả: {name}"},
    "rerun": {EN: "{window}; rerun from the command line:", VI: "{window}; chạy lại từ dòng lệnh:"},
    "done": {EN: "done in {seconds} s", VI: "hoàn tất sau {seconds} giây"},
    "drawing": {
        EN: "results after {seconds} s; drawing the figures",
        VI: "có kết quả sau {seconds} giây; đang vẽ các biểu đồ",
    },
    "compared": {
        EN: "**{base}** (base) vs **{policies}**: {replications} replications each, root seed {seed}, "
        "{window}; Δ = policy − base, paired by replication (common random numbers), ± its 95% interval; "
        "* where the interval excludes 0.",
        VI: "**{base}** (kịch bản gốc) so với **{policies}**: mỗi kịch bản {replications} lần lặp, hạt "
        "giống gốc {seed}, {window}; Δ = chính sách − kịch bản gốc, ghép cặp theo lần lặp (cùng số ngẫu "
        "nhiên), ± nửa khoảng tin cậy 95%; * khi khoảng tin cậy không chứa 0.",
    },
    "group": {EN: "Gate and direction", VI: "Cửa khẩu và chiều hàng"},
    "effect": {EN: "Effect: {group}", VI: "Tác động: {group}"},
    "decision_heading": {EN: "Decision: {group}", VI: "Quyết định: {group}"},
    "rate": {
        EN: "Amounts in USD, with VND beside them at VND {rate} per USD, {source}.",
        VI: "Số tiền tính bằng USD, kèm VND theo tỷ giá {rate} VND/USD, {source}.",
    },
    "tile_row": {EN: "**{policy}** (Δ against {base})", VI: "**{policy}** (Δ so với {base})"},
    "tile_help": {
        EN: "Policy mean; below it the paired difference from the base ± the half-width of its 95% interval "
        "(common random numbers). Coloured, with *, only where the interval excludes 0 and the change is "
        "at least the relevance threshold; grey otherwise.",
        VI: "Giá trị trung bình của chính sách; bên dưới là chênh lệch theo cặp so với kịch bản gốc ± nửa "
        "khoảng tin cậy 95% (cùng số ngẫu nhiên). Chỉ tô màu, kèm *, khi khoảng tin cậy không chứa 0 và "
        "thay đổi đạt ít nhất ngưỡng đáng kể; màu xám trong trường hợp khác.",
    },
    "differences": {
        EN: "Paired differences with 95% intervals",
        VI: "Chênh lệch theo cặp với khoảng tin cậy 95%",
    },
    "figures": {EN: "Clearance times and backlog", VI: "Thời gian thông quan và số xe tồn đọng"},
    "draw": {EN: "Draw the figures", VI: "Vẽ các biểu đồ"},
    "map": {EN: "The border, day by day", VI: "Biên giới theo từng ngày"},
    "map_scenario": {EN: "Scenario on the map", VI: "Kịch bản trên bản đồ"},
    "day": {EN: "Day", VI: "Ngày"},
    "xlsx": {
        EN: "Download summary and differences (.xlsx)",
        VI: "Tải bảng tóm tắt và chênh lệch (.xlsx)",
    },
    "write_report": {EN: "Write report", VI: "Viết báo cáo"},
    "download_report": {EN: "Download report (HTML)", VI: "Tải báo cáo (HTML)"},
    "folder": {
        EN: "Results folder: {folder} · full report: `bordersim report {folder}`",
        VI: "Thư mục kết quả: {folder} · báo cáo đầy đủ: `bordersim report {folder}`",
    },
    # the decision table (the ranking)
    "ranking": {
        EN: "Ranking on {objective} ({where}), best first",
        VI: "Xếp hạng theo {objective} ({where}), tốt nhất trước",
    },
    "col_rank": {EN: "rank", VI: "hạng"},
    "col_scenario": {EN: "scenario", VI: "kịch bản"},
    "col_delta": {EN: "Δ vs base (95% interval)", VI: "Δ so với kịch bản gốc (khoảng tin cậy 95%)"},
    "col_swing": {
        EN: "Δ over its own assumptions' ranges (least .. most favourable)",
        VI: "Δ trên các khoảng giả định riêng (bất lợi nhất .. thuận lợi nhất)",
    },
    "col_verdict": {EN: "verdict", VI: "đánh giá"},
    # the panels below the results
    "saved_runs": {EN: "Saved runs ({n})", VI: "Các lần chạy đã lưu ({n})"},
    "run_to_open": {EN: "Run to open", VI: "Lần chạy cần mở"},
    # the saved runs' columns (English: sim/app/runs.py's COLUMNS)
    "col_levers changed": {EN: "levers changed", VI: "tham số đã đổi"},
    "col_effect": {EN: "effect", VI: "tác động"},
    "col_status": {EN: "status", VI: "trạng thái"},
    "col_started": {EN: "started", VI: "bắt đầu lúc"},
    "col_period": {EN: "period", VI: "khoảng thời gian"},
    "col_base": {EN: "base", VI: "kịch bản gốc"},
    "col_replications": {EN: "replications", VI: "số lần lặp"},
    "col_run": {EN: "run", VI: "lần chạy"},
    "open_run": {EN: "Open this run", VI: "Mở lần chạy này"},
    "forecast": {
        EN: "Forecast from today's queue (upload a state file)",
        VI: "Dự báo từ hàng đợi hôm nay (tải lên tệp trạng thái)",
    },
    "state_file": {
        EN: "State file (CSV: gate,direction,count[,class,where,waited_h,arrived])",
        VI: "Tệp trạng thái (CSV: gate,direction,count[,class,where,waited_h,arrived])",
    },
    "state_date": {EN: "State date", VI: "Ngày của trạng thái"},
    "state_time": {EN: "State time", VI: "Giờ của trạng thái"},
    "forecast_policy": {
        EN: "Policy (a file that extends the base)",
        VI: "Chính sách (tệp mở rộng kịch bản gốc)",
    },
    "run_forecast": {EN: "Run forecast", VI: "Chạy dự báo"},
    "today": {
        EN: "Today: take in the border's counts (the twin)",
        VI: "Hôm nay: cập nhật số liệu đếm tại cửa khẩu (bản sao số)",
    },
    "today_help": {
        EN: "Counts the border reports (trucks waiting at a time, crossed or turned back in a day) update "
        "the base's uncertain inputs with a particle filter (`bordersim assimilate`); the result is the "
        "filtered past with its band, the forecast fan, and each input's prior beside its posterior. A "
        "CSV with the columns date, gate (or all), direction (export, import or all), what (waiting, "
        "crossed, turned_back), value and an optional error.",
        VI: "Số liệu đếm do cửa khẩu báo cáo (số xe đang chờ tại một thời điểm, số xe đã qua hoặc quay đầu "
        "trong ngày) cập nhật các đầu vào không chắc chắn của kịch bản gốc bằng bộ lọc hạt (`bordersim "
        "assimilate`); kết quả là chuỗi đã lọc với dải của nó, quạt dự báo, và phân phối trước bên cạnh "
        "phân phối sau của từng đầu vào. Tệp CSV với các cột date, gate (hoặc all), direction (export, "
        "import hoặc all), what (waiting, crossed, turned_back), value và cột error tùy chọn.",
    },
    "today_needs_uncertain": {
        EN: "{file} has no 'uncertain:' section: there are no inputs for the counts to update.",
        VI: "{file} không có mục 'uncertain:': không có đầu vào nào để số liệu đếm cập nhật.",
    },
    "today_upload": {EN: "Counts file (CSV)", VI: "Tệp số liệu đếm (CSV)"},
    "today_paste": {EN: "or paste the counts", VI: "hoặc dán số liệu đếm"},
    "today_particles": {EN: "Particles", VI: "Số hạt"},
    "today_run": {EN: "Take in the counts", VI: "Cập nhật số liệu đếm"},
    "today_running": {EN: "running the particles...", VI: "đang chạy các hạt..."},
    "today_posterior": {
        EN: "What the counts taught: each input, prior beside posterior",
        VI: "Điều số liệu đếm cho biết: từng đầu vào, phân phối trước bên cạnh phân phối sau",
    },
    "today_saved": {
        EN: "Saved in {folder} ({runs} particle runs).",
        VI: "Đã lưu tại {folder} ({runs} lần chạy hạt).",
    },
    "days": {EN: "Days", VI: "Số ngày"},  # the forecast's settings (English: the registry's names in words)
    "until_below": {EN: "Until below", VI: "Đến khi số xe chờ dưới"},
    "direction": {EN: "Direction", VI: "Chiều hàng"},
    "study": {EN: "Study", VI: "Nghiên cứu"},
    "run_study": {EN: "Run this study", VI: "Chạy nghiên cứu này"},
    "any_study": {
        EN: "Any study (its settings as the command line has them)",
        VI: "Nghiên cứu bất kỳ (các thiết lập như trên dòng lệnh)",
    },
    "levers": {EN: "Levers", VI: "Tham số điều chỉnh"},
    "levers_caption": {
        EN: "Base: {file} ({about}). Each field starts at the base value; below it, the base value and the "
        "source of that number.",
        VI: "Kịch bản gốc: {file} ({about}). Mỗi ô bắt đầu ở giá trị gốc; bên dưới là giá trị gốc và nguồn "
        "của số liệu đó.",
    },
    "changed_in_group": {EN: "{n} changed", VI: "{n} đã thay đổi"},
    "changed_most": {EN: " (changed most: {measure})", VI: " (thay đổi nhiều nhất: {measure})"},
    # the run's size and time, under the Run button
    "size": {
        EN: "about {trucks} trucks to simulate ({who}, {replications} replications each)",
        VI: "khoảng {trucks} xe tải cần mô phỏng ({who}, mỗi kịch bản {replications} lần lặp)",
    },
    "untimed": {
        EN: "{size}; no run finished on this machine yet to time it.",
        VI: "{size}; chưa có lần chạy nào hoàn tất trên máy này để ước tính thời gian.",
    },
    "estimate": {
        EN: "Estimated run time: about {duration} ({size}, at the {speed} trucks/s measured on {runs} "
        "earlier run(s) here; less when the base's replications are reused).",
        VI: "Thời gian chạy ước tính: khoảng {duration} ({size}, với tốc độ {speed} xe/giây đo được trên "
        "{runs} lần chạy trước ở máy này; nhanh hơn khi dùng lại các lần lặp của kịch bản gốc).",
    },
    "who_base": {EN: "base", VI: "kịch bản gốc"},
    "who_policy": {EN: "policy", VI: "chính sách"},
    "who_saved": {EN: "{n} saved policies", VI: "{n} chính sách đã lưu"},
    "who_swing": {EN: "{n} swing runs", VI: "{n} lần chạy biên độ"},
    "and": {EN: " and ", VI: " và "},
}

# the metrics the tiles and the decision table name, and their units (others keep their English label)
METRIC_WORDS: dict[str, dict[str, str]] = {
    "mean_clearance_h": {EN: "mean clearance time", VI: "thời gian thông quan trung bình"},
    "p95_clearance_h": {EN: "p95 clearance time", VI: "thời gian thông quan p95"},
    "cleared_per_day": {EN: "cleared per day", VI: "số xe thông quan mỗi ngày"},
    "waiting_cost_usd": {EN: "waiting cost", VI: "chi phí chờ"},
    "net_cost_usd": {EN: "net cost to the province", VI: "chi phí ròng cho tỉnh"},
    "total_cost_usd": {
        EN: "total cost (waiting + upstream + spoiled)",
        VI: "tổng chi phí (chờ + giữ tại nơi xuất phát + hư hỏng)",
    },
}
UNIT_WORDS: dict[str, dict[str, str]] = {
    "h": {EN: "h", VI: "giờ"},
    "trucks/day": {EN: "trucks/day", VI: "xe/ngày"},
    "USD m": {EN: "USD m", VI: "triệu USD"},
    "trucks": {EN: "trucks", VI: "xe"},
}
VERDICT_WORDS: dict[str, dict[str, str]] = {  # the decision table's verdicts (English: decision_text's)
    "better": {EN: "better", VI: "tốt hơn"},
    "worse": {EN: "worse", VI: "kém hơn"},
    "changed": {EN: "changed", VI: "có thay đổi"},
    "less than relevant": {EN: "less than relevant", VI: "dưới ngưỡng đáng kể"},
    "real but small": {EN: "real but small", VI: "có thật nhưng nhỏ"},
    "unclear": {EN: "unclear", VI: "chưa rõ"},
    "identical": {EN: "identical", VI: "giống hệt"},
    "the same in every replication": {
        EN: "the same in every replication",
        VI: "như nhau ở mọi lần lặp",
    },
    "no interval": {EN: "no interval", VI: "không có khoảng tin cậy"},
    "not modelled": {EN: "not modelled", VI: "không được mô hình hóa"},
    "base": {EN: "base", VI: "kịch bản gốc"},
}
GROUP_WORDS: dict[str, dict[str, str]] = {  # the levers' group titles ('Hữu Nghị: export', 'Trucks')
    "Trucks": {EN: "Trucks", VI: "Xe tải"},
    ": gate": {EN: ": gate", VI: ": cửa khẩu"},
    ": shared pools": {EN: ": shared pools", VI: ": nguồn lực dùng chung"},
    ": export": {EN: ": export", VI: ": hàng xuất khẩu"},
    ": import": {EN: ": import", VI: ": hàng nhập khẩu"},
}
WHERE_WORDS: dict[str, dict[str, str]] = {  # a results group in words ('Hữu Nghị, export')
    "all gates": {EN: "all gates", VI: "tất cả cửa khẩu"},
    "both directions": {EN: "both directions", VI: "cả hai chiều"},
    ", export": {EN: ", export", VI: ", hàng xuất khẩu"},
    ", import": {EN: ", import", VI: ", hàng nhập khẩu"},
}
CATALOGUES: tuple[Mapping[str, Mapping[str, str]], ...] = (
    WORDS,
    METRIC_WORDS,
    UNIT_WORDS,
    VERDICT_WORDS,
    GROUP_WORDS,
    WHERE_WORDS,
)


def language(code: str | None) -> str:
    """A language code the catalogue has (English for anything else)."""
    return code if code in LANGUAGES else EN


def word(key: str, lang: str | None = EN, **values: object) -> str:
    """The message ``key`` in ``lang`` with its ``{placeholders}`` filled; an unknown key is a bug
    (KeyError), never a silent English fallback."""
    return WORDS[key][language(lang)].format(**values)


def metric_words(metric: str, label: str, unit: str, lang: str | None = EN) -> tuple[str, str]:
    """A metric's label and unit in ``lang`` (``label`` and ``unit``: its English ones, kept where the
    catalogue has no words for it)."""
    lang = language(lang)
    if lang == EN:  # the metric's own words (the catalogue's English is checked against them)
        return label, unit
    return METRIC_WORDS.get(metric, {}).get(lang, label), UNIT_WORDS.get(unit, {}).get(lang, unit)


def verdict_word(verdict: str, lang: str | None = EN) -> str:
    """A decision table's verdict (decision_text's English words) in ``lang``."""
    return VERDICT_WORDS.get(verdict, {}).get(language(lang), verdict)


def group_words(group: str, lang: str | None = EN) -> str:
    """A levers' group title in ``lang``: the gate's own name kept, what follows it translated."""
    lang = language(lang)
    for english, words in GROUP_WORDS.items():
        if group == english or (english.startswith(":") and group.endswith(english)):
            return group[: len(group) - len(english)] + words[lang]
    return group


def where_words(where: str, lang: str | None = EN) -> str:
    """A results group in words ('Hữu Nghị, export', 'all gates, both directions') in ``lang``."""
    lang = language(lang)
    for english, words in WHERE_WORDS.items():
        if english.startswith(","):
            where = where[: -len(english)] + words[lang] if where.endswith(english) else where
        else:
            where = where.replace(english, words[lang])
    return where


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")  # fmt: skip
ABBREVIATED = tuple(m[:3] for m in MONTHS)
MON = "(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"


def _month(name: str) -> int:
    return ABBREVIATED.index(name[:3]) + 1


WINDOW_WORDS = (  # a time window's label (sim/app/windows.py) in Vietnamese: (pattern, replacement)
    (r"^whole period \((.*)\)", r"toàn bộ giai đoạn (\1)"),
    (rf"^season {MON}-{MON} (\d{{4}})", lambda m: f"quý {(_month(m[1]) - 1) // 3 + 1}/{m[3]}"),
    (r"^month (\w+) (\d{4})", lambda m: f"tháng {MONTHS.index(m[1]) + 1}/{m[2]}" if m[1] in MONTHS else m[0]),
    (rf"\(runs from (\d+) {MON} for its starting state\)",
     lambda m: f"(chạy từ {m[1]}/{_month(m[2])} để có trạng thái ban đầu)"),
    (rf"\b(\d{{1,2}}) {MON} (\d{{4}})\b", lambda m: f"{m[1]}/{_month(m[2]):02d}/{m[3]}"),
    (r"(\d) to (\d)", r"\1 đến \2"),
)  # fmt: skip


def window_words(label: str, lang: str | None = EN) -> str:
    """A time window's label ('month January 2022 (runs from 1 Nov for its starting state)') in ``lang``:
    the picker shows it so, while the session keeps the English label as the window's key. A label of
    another form keeps its words."""
    if language(lang) == EN:
        return label
    for pattern, replacement in WINDOW_WORDS:
        label = re.sub(pattern, replacement, label)
    return label


def placeholders(text: str) -> set[str]:
    """The ``{names}`` a message fills (both languages must fill the same ones)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}
