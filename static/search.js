// Search page: Pagefind's JS API with a small accessible UI (no framework).
// Chinese queries are segmented by pagefind.js itself (Intl.Segmenter, because <html lang="zh-CN">).
// Results must also match the query as a phrase, so 新能源汽车 does not return pages that only
// contain 新 … 能源 … 汽车 far apart.
const form = document.getElementById("search-form");
const input = document.getElementById("search-input");
const statusEl = document.getElementById("search-status");
const list = document.getElementById("search-results");
const HAN = /[\u3400-\u9fff\uf900-\ufaff]/;
const selects = document.getElementById("search-selects");
const more = document.getElementById("search-more");
const params = new URLSearchParams(location.search);
let pagefind;

async function load() {
  if (!pagefind) {
    pagefind = await import("/pagefind/pagefind.js");
    await pagefind.options({ excerptLength: 40 });
  }
  return pagefind;
}

// Week, people, organisations, places and source are Pagefind filters. Their values (a file
// per filter, hundreds of KB on a big site) are loaded only when the reader opens the filters,
// not with the first search; a value chosen in the URL is offered at once (and opens them).
for (const select of selects.querySelectorAll("select[data-filter]")) {
  const chosen = params.get(select.dataset.filter);
  if (chosen) {
    select.append(new Option(chosen, chosen, true, true));
    more.open = true;
  }
}
document.getElementById("search-sort").value = params.get("sort") || "";

let filtersFilled;
more.addEventListener("toggle", () => {
  if (more.open && !filtersFilled) filtersFilled = load().then(fillFilterControls);
});

async function fillFilterControls(pf) {
  const available = await pf.filters();
  for (const select of selects.querySelectorAll("select[data-filter]")) {
    const name = select.dataset.filter;
    const counts = available[name] || {};
    const values = Object.keys(counts).sort((a, b) =>
      name === "周" ? b.localeCompare(a) : counts[b] - counts[a] || a.localeCompare(b, "zh-CN"));
    const chosen = select.value;
    select.replaceChildren(new Option("全部", ""));
    for (const value of values.slice(0, 300)) select.append(new Option(`${value}（${counts[value]}）`, value));
    if (chosen && !values.slice(0, 300).includes(chosen)) select.append(new Option(chosen, chosen));
    select.value = chosen;
  }
}

// "Newest first": the pages' date order is not in the metadata every search downloads but in
// a file of its own, fetched only for this (sitegen/search/bundle.py, date_order_path): page
// numbers oldest first, each as its difference from the previous one. The entry file names it
// per language (its name changes with its content), as fresh as pagefind.js reads it. A
// result's id is its fragment name: language_ + a 4-character stamp + its number in base 36.
const STAMP_LENGTH = 4;
function splitId(id) {
  const cut = id.lastIndexOf("_");
  return { language: id.slice(0, cut), number: parseInt(id.slice(cut + 1 + STAMP_LENGTH), 36) };
}

let entry = null;
const dateRanks = new Map();
async function sortNewestFirst(results) {
  if (!results.length) return results;
  const { language } = splitId(results[0].id);
  entry ??= fetch(`/pagefind/pagefind-entry.json?ts=${Date.now()}`).then((r) => r.json());
  const path = (await entry).sitegen_date_order?.[language];
  if (!path) return results;
  if (!dateRanks.has(path)) {
    dateRanks.set(path, fetch(`/pagefind/${path}`).then((r) => r.json()).then((deltas) => {
      const rank = new Map();
      let page = 0;
      deltas.forEach((delta, i) => { page += delta; rank.set(page, i); });
      return rank;
    }));
  }
  const rank = await dateRanks.get(path);
  const of = (result) => rank.get(splitId(result.id).number) ?? -1;
  return [...results].sort((a, b) => of(b) - of(a));
}

function chosenFilters(type) {
  const filters = type ? { "类型": type } : {};
  for (const select of selects.querySelectorAll("select[data-filter]")) {
    if (select.value) filters[select.dataset.filter] = select.value;
  }
  return filters;
}

// Excerpts come from the segmented index: remove the ":" the index puts inside a Chinese word
// where a second segmenter sees a boundary (富:美; a real colon there has spaces round it), the
// spaces between Chinese words (a space stays only between two Latin letters or digits), and
// turn Pagefind's ". " block separator after Chinese text into a full stop.
const CJK = "\\u3000-\\u303f\\u3400-\\u9fff\\uf900-\\ufaff\\uff00-\\uffef“”‘’—…·";
const PART_JOINER = /(?<=[\u3400-\u9fff\uf900-\ufaff]):(?=[\u3400-\u9fff\uf900-\ufaff])/g;
const SPACE_NEXT_TO_CJK = new RegExp(`(?<=[${CJK}](?:</?mark>)?) +|(?: +)(?=(?:</?mark>)?[${CJK}])`, "g");
const BLOCK_DOT = new RegExp(`(?<=[${CJK}](?:</?mark>)?)\\. `, "g");
function tidy(html) {
  return html.replace(PART_JOINER, "").replace(BLOCK_DOT, "。").replace(SPACE_NEXT_TO_CJK, "")
    .replaceAll("</mark><mark>", "");
}

function escapeText(text) {
  const div = document.createElement("div");
  div.textContent = text;
  return div.innerHTML;
}

async function run(query, type) {
  list.replaceChildren();
  if (!query.trim()) { statusEl.textContent = ""; return; }
  statusEl.textContent = "正在搜索…";
  const pf = await load();
  const filters = chosenFilters(type);
  const search = await pf.search(query, { filters });
  let results = search.results;
  if (HAN.test(query) && !/\s/.test(query.trim()) && !query.includes('"')) {
    const phrase = await pf.search(`"${query.trim()}"`, { filters });
    const keep = new Set(phrase.results.map((r) => r.id));
    results = results.filter((r) => keep.has(r.id));
  }
  if (document.getElementById("search-sort").value) results = await sortNewestFirst(results);
  const data = await Promise.all(results.slice(0, 20).map((r) => r.data()));
  statusEl.textContent = data.length ? `找到 ${results.length} 条结果` : `没有找到与“${query}”相关的内容`;
  for (const item of data) {
    const li = document.createElement("li");
    const title = (item.meta && item.meta.title) || item.url;
    const facts = [item.meta && item.meta.date, item.meta && item.meta.source].filter(Boolean).map(escapeText).join(" · ");
    const date = facts ? `<span class="list-meta"> · ${facts}</span>` : "";
    li.innerHTML = `<a class="result-title" href="${encodeURI(item.url)}">${escapeText(title)}</a>${date}` +
      `<p class="result-excerpt">${tidy(item.excerpt)}</p>`;
    list.append(li);
  }
}

function currentType() {
  const checked = form.querySelector('input[name="type"]:checked');
  return checked ? checked.value : "";
}

input.value = params.get("q") || "";
const initialType = params.get("type") || "";
const radio = form.querySelector(`input[name="type"][value="${CSS.escape(initialType)}"]`);
if (radio) radio.checked = true;
form.addEventListener("submit", (event) => {
  event.preventDefault();
  const url = new URL(location.href);
  url.searchParams.set("q", input.value);
  if (currentType()) url.searchParams.set("type", currentType()); else url.searchParams.delete("type");
  for (const select of form.querySelectorAll("select")) {
    if (select.value) url.searchParams.set(select.name, select.value); else url.searchParams.delete(select.name);
  }
  history.replaceState(null, "", url);
  run(input.value, currentType());
});
form.addEventListener("change", () => run(input.value, currentType()));
if (input.value) run(input.value, currentType());
