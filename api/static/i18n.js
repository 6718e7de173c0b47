// The page's own words (Vietnamese first, English) and the labels of codes (positions, rules,
// KPIs, statuses), which come from the service's catalogue (rotation/i18n.py, GET /v1/labels).

const WORDS = {
  vi: {
    title: "Kế hoạch luân chuyển cán bộ",
    language: "Ngôn ngữ",
    signIn: "Đăng nhập",
    signOut: "Đăng xuất",
    apiKey: "Khóa API",
    keyHint: "Khóa chỉ được giữ trong phiên này (đóng thẻ là mất), không bao giờ nằm trong địa chỉ.",
    badKey: "Khóa không hợp lệ",
    datasets: "Bộ dữ liệu",
    chooseDataset: "Chọn bộ dữ liệu",
    noDatasets: "Chưa có bộ dữ liệu nào.",
    open: "Mở",
    loading: "Đang tải…",
    standing: "Hiện trạng",
    map: "Bản đồ xã",
    mapLabel: "Bản đồ các xã theo tọa độ trung tâm, tô màu theo người giữ chức vụ",
    nonLocal: "không phải người địa phương",
    local: "người địa phương",
    vacant: "trống",
    bars: "Tỷ lệ không phải người địa phương theo đơn vị",
    barsLabel: "Biểu đồ cột: tỷ lệ không phải người địa phương của từng đơn vị so với mục tiêu",
    target: "Mục tiêu",
    scope: "Đơn vị",
    posts: "Số chức danh",
    cadres: "Số cán bộ",
    filled: "Có người",
    share: "Tỷ lệ",
    communes: "Xã",
    commune: "Xã",
    holder: "Người giữ",
    communeTable: "Bảng các xã (thay cho bản đồ)",
    position: "Chức danh",
    newPlan: "Lập phương án mới",
    targetShare: "Mục tiêu không phải người địa phương (%)",
    maxChanges: "Số thay đổi tối đa mỗi đơn vị (để trống: không giới hạn)",
    maxTravel: "Quãng đường tối đa (km, để trống: không giới hạn)",
    budget: "Ngân sách hỗ trợ (đồng, để trống: không giới hạn)",
    candidates: "Số phương án",
    timeLimit: "Thời gian giải tối đa (giây)",
    start: "Bắt đầu",
    cancel: "Dừng (giữ phương án tốt nhất)",
    progress: "Tiến độ",
    elapsed: "Thời gian",
    phase: "Giai đoạn",
    objective: "Mục tiêu tối ưu",
    bound: "Cận dưới",
    gap: "Khoảng cách",
    queue: "Vị trí trong hàng đợi",
    status: "Trạng thái",
    plans: "Các phương án",
    noPlans: "Chưa có phương án.",
    plan: "Phương án",
    compare: "So sánh",
    compareHint: "Chọn 2–4 phương án rồi bấm So sánh.",
    changes: "Các thay đổi",
    movesMap: "Bản đồ điều động",
    movesLabel: "Bản đồ các điều động: mũi tên từ nơi công tác hiện nay đến chức vụ mới",
    post: "Chức vụ",
    unit: "Đơn vị",
    newHolder: "Người nhận",
    from: "Từ",
    replaces: "Thay",
    travel: "Quãng đường",
    explain: "Giải thích",
    why: "Vì sao người này",
    alternatives: "Phương án khác",
    whyNot: "Lý do không chọn",
    scoreParts: "Thành phần điểm",
    declines: "Người này từ chối — lập lại",
    repairStarted: "Đang lập lại phương án, giữ nguyên tối đa các chức vụ khác…",
    released: "Được giải phóng",
    kpis: "Chỉ số",
    diagnosis: "Vì sao không có phương án",
    rule: "Quy định",
    detail: "Chi tiết",
    differing: "Các chức vụ khác nhau",
    sameEverywhere: "Các phương án giống nhau ở mọi chức vụ.",
    roadmap: "Lộ trình nhiệm kỳ",
    rounds: "Các đợt (năm)",
    finalShare: "Mục tiêu cuối nhiệm kỳ (%)",
    startRoadmap: "Lập lộ trình",
    roadmaps: "Các lộ trình",
    timeline: "Dòng thời gian",
    round: "Đợt",
    back: "Quay lại",
    none: "–",
    done: "xong",
    yes: "có",
    no: "không",
    error: "Lỗi",
    kmUnit: "km",
    moves: "điều động",
    openPlan: "Mở phương án",
  },
  en: {
    title: "Cadre rotation planner",
    language: "Language",
    signIn: "Sign in",
    signOut: "Sign out",
    apiKey: "API key",
    keyHint: "The key is kept for this session only (gone when the tab closes), never in the address.",
    badKey: "The key is not valid",
    datasets: "Datasets",
    chooseDataset: "Choose a dataset",
    noDatasets: "No dataset yet.",
    open: "Open",
    loading: "Loading…",
    standing: "Where it stands",
    map: "Map of communes",
    mapLabel: "Map of the communes at their centroids, coloured by the post holder",
    nonLocal: "non-local",
    local: "local",
    vacant: "vacant",
    bars: "Non-local share by unit",
    barsLabel: "Bar chart: each unit's non-local share against the target",
    target: "Target",
    scope: "Unit",
    posts: "Posts",
    cadres: "Cadres",
    filled: "Filled",
    share: "Share",
    communes: "Communes",
    commune: "Commune",
    holder: "Holder",
    communeTable: "Table of communes (instead of the map)",
    position: "Position",
    newPlan: "New plan",
    targetShare: "Non-local target (%)",
    maxChanges: "Most changes per unit (empty: no cap)",
    maxTravel: "Longest travel (km, empty: no limit)",
    budget: "Support budget (VND, empty: no cap)",
    candidates: "Number of plans",
    timeLimit: "Time limit (s)",
    start: "Start",
    cancel: "Stop (keep the best plan)",
    progress: "Progress",
    elapsed: "Elapsed",
    phase: "Phase",
    objective: "Objective",
    bound: "Bound",
    gap: "Gap",
    queue: "Place in queue",
    status: "Status",
    plans: "Plans",
    noPlans: "No plan yet.",
    plan: "Plan",
    compare: "Compare",
    compareHint: "Tick 2–4 plans, then press Compare.",
    changes: "Changes",
    movesMap: "Map of moves",
    movesLabel: "Map of the moves: arrows from where each cadre works today to the new post",
    post: "Post",
    unit: "Unit",
    newHolder: "New holder",
    from: "From",
    replaces: "Replaces",
    travel: "Travel",
    explain: "Explain",
    why: "Why this cadre",
    alternatives: "Alternatives",
    whyNot: "Why not",
    scoreParts: "Score parts",
    declines: "This cadre declines — re-plan",
    repairStarted: "Re-planning, keeping as many other posts as possible…",
    released: "Released",
    kpis: "KPIs",
    diagnosis: "Why there is no plan",
    rule: "Rule",
    detail: "Detail",
    differing: "Posts that differ",
    sameEverywhere: "The plans agree on every post.",
    roadmap: "Term roadmap",
    rounds: "Rounds (years)",
    finalShare: "Target by the end of the term (%)",
    startRoadmap: "Plan the roadmap",
    roadmaps: "Roadmaps",
    timeline: "Timeline",
    round: "Round",
    back: "Back",
    none: "–",
    done: "done",
    yes: "yes",
    no: "no",
    error: "Error",
    kmUnit: "km",
    moves: "moves",
    openPlan: "Open plan",
  },
};

// Job statuses (rotation/status.py JobStatus); plan statuses come from the catalogue.
const JOB_STATUS = {
  vi: { queued: "đang chờ", running: "đang giải", done: "xong", infeasible: "không có phương án", failed: "lỗi", cancelled: "đã dừng" },
  en: { queued: "queued", running: "running", done: "done", infeasible: "no plan exists", failed: "failed", cancelled: "stopped" },
};

const LANG_SLOT = "rotation.lang";
let lang = sessionStorage.getItem(LANG_SLOT) || "vi";
let labels = {};
let currency = "đ";

export function currentLang() {
  return lang;
}

export async function setLang(next) {
  lang = next in WORDS ? next : "vi";
  sessionStorage.setItem(LANG_SLOT, lang);
  document.documentElement.lang = lang;
  try {
    const r = await fetch(`/v1/labels?lang=${lang}`);
    const body = r.ok ? await r.json() : {};
    labels = body.labels ?? {};
    currency = body.currency ?? (lang === "vi" ? "đ" : "VND");
  } catch {
    labels = {};
  }
}

/** A word of the page. */
export function t(key) {
  return WORDS[lang][key] ?? WORDS.en[key] ?? key;
}

/** A job's status in words. */
export function jobStatus(code) {
  return JOB_STATUS[lang][code] ?? code ?? t("none");
}

/** A code's label from the service catalogue (context: position, rule, kpi, status, …). */
export function label(context, code) {
  if (code == null) return t("none");
  const part = (c) => labels[context]?.[c] ?? c;
  return String(code).split("+").map(part).join(" + ");
}

const locale = () => (lang === "vi" ? "vi-VN" : "en-GB");

export function num(x, digits = 0) {
  if (x == null || Number.isNaN(Number(x))) return t("none");
  return Number(x).toLocaleString(locale(), {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

export function pct(share, digits = 1) {
  if (share == null || Number.isNaN(Number(share))) return t("none");
  const s = num(Number(share) * 100, digits);
  return lang === "vi" ? `${s} %` : `${s}%`;
}

export const money = (vnd) => (vnd == null ? t("none") : `${num(vnd)} ${currency}`);

export const km = (x) => (x == null ? t("none") : `${num(x, 1)} km`);
