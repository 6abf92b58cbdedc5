/* Block Kit renderer for the playground: blocks -> DOM. No dependencies.
 * BK.render(blocks, ctx) where ctx = {surface, act(action, values), suggest(el, text), errors, users, channels}.
 * Every block/element type listed in supported_types.json has a renderer here (tests check both). */
(function () {
  "use strict";

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "html") el.innerHTML = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function esc(s) {
    return String(s).replace(/&(?!(amp|lt|gt);)/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  /* Slack mrkdwn (the subset the bot uses) to HTML. Slack escapes &, <, > in text already. */
  function mrkdwn(text) {
    let s = String(text || "");
    const links = [];
    s = s.replace(/<([^<>]+)>/g, (_, inner) => {
      let out;
      if (inner.startsWith("@")) out = `<span class="mention">@${esc(userName(inner.slice(1).split("|")[0]))}</span>`;
      else if (inner.startsWith("#")) out = `<span class="mention">#${esc(inner.split("|")[1] || inner.slice(1))}</span>`;
      else if (inner.startsWith("!date^")) out = esc(slackDate(inner));
      else if (inner.startsWith("!")) out = `<span class="mention">@${esc(inner.slice(1).split("|")[0])}</span>`;
      else if (!/^[a-z][a-z0-9+.-]*:/i.test(inner)) out = esc(`<${inner}>`);
      else {
        const [url, label] = inner.split("|");
        out = `<a href="${esc(url)}" target="_blank" rel="noopener">${esc(label || url)}</a>`;
      }
      links.push(out);
      return `\u0000${links.length - 1}\u0000`;
    });
    s = esc(s);
    const codes = [];
    s = s.replace(/```([\s\S]*?)```/g, (_, c) => { codes.push(`<pre>${c.replace(/^\n/, "")}</pre>`); return `\u0001${codes.length - 1}\u0001`; });
    s = s.replace(/`([^`\n]+)`/g, (_, c) => { codes.push(`<code>${c}</code>`); return `\u0001${codes.length - 1}\u0001`; });
    s = s.replace(/(^|[\s(])\*([^*\n]+)\*/g, "$1<b>$2</b>");
    s = s.replace(/(^|[\s(])_([^_\n]+)_/g, "$1<i>$2</i>");
    s = s.replace(/(^|[\s(])~([^~\n]+)~/g, "$1<s>$2</s>");
    s = s.replace(/^&gt; ?(.*)$/gm, "<blockquote>$1</blockquote>");
    s = s.replace(/:([a-z0-9_+-]+):/g, (m, name) => EMOJI[name] || m);
    s = s.replace(/\n/g, "<br>");
    s = s.replace(/\u0001(\d+)\u0001/g, (_, i) => codes[+i]);
    s = s.replace(/\u0000(\d+)\u0000/g, (_, i) => links[+i]);
    return s;
  }

  const EMOJI = {
    alarm_clock: "⏰", arrow_forward: "▶️", calendar: "📅", double_vertical_bar: "⏸️", grey_question: "❔",
    heavy_check_mark: "✔️", hourglass: "⌛", hourglass_flowing_sand: "⏳", information_source: "ℹ️",
    large_green_circle: "🟢", large_orange_circle: "🟠", leftwards_arrow_with_hook: "↩️", lock: "🔒", memory: "📝",
    no_entry: "⛔", no_entry_sign: "🚫", outbox_tray: "📤", page_facing_up: "📄", pencil2: "✏️", red_circle: "🔴",
    rotating_light: "🚨", snail: "🐌", speech_balloon: "💬", thinking_face: "🤔", truck: "🚚", warning: "⚠️",
    wastebasket: "🗑️", white_check_mark: "✅",
    white_circle: "⚪", x: "❌", zzz: "💤", tada: "🎉", eyes: "👀", wave: "👋", mag: "🔍", gear: "⚙️", bulb: "💡",
  };

  /* <!date^epoch^format|fallback> in the reader's local time. */
  function slackDate(inner) {
    const [spec, fallback] = inner.split("|");
    const epoch = Number(spec.split("^")[1]);
    if (!Number.isFinite(epoch)) return fallback || spec;
    return new Date(epoch * 1000).toLocaleString([], { dateStyle: "medium", timeStyle: "short" });
  }

  let USERS = {};
  function userName(id) { return USERS[id] || id; }

  function textObj(t) {
    if (!t) return h("span");
    if (typeof t === "string") return h("span", { html: mrkdwn(t) });
    if (t.type === "mrkdwn") return h("span", { class: "mrkdwn", html: mrkdwn(t.text) });
    return h("span", { class: "plain" }, t.text);
  }
  function plain(t) { return t ? (typeof t === "string" ? t : t.text) : ""; }

  /* -- confirm dialogs ------------------------------------------------------------------------ */
  function confirmDialog(confirm) {
    return new Promise((resolve) => {
      const close = (ok) => { overlay.remove(); resolve(ok); };
      const overlay = h("div", { class: "overlay", "data-testid": "confirm-dialog" },
        h("div", { class: "dialog" },
          h("header", {}, plain(confirm.title) || "Are you sure?"),
          h("div", { class: "body" }, textObj(confirm.text)),
          h("footer", {},
            h("button", { class: "bk-button", "data-testid": "confirm-deny", onclick: () => close(false) }, plain(confirm.deny) || "Cancel"),
            h("button", { class: "bk-button " + (confirm.style === "danger" ? "danger" : "primary"), "data-testid": "confirm-ok",
              onclick: () => close(true) }, plain(confirm.confirm) || "Confirm"))));
      document.body.append(overlay);
    });
  }

  async function dispatch(ctx, element, block, action) {
    if (element.confirm && !(await confirmDialog(element.confirm))) return;
    ctx.act({ action_id: element.action_id, block_id: block.block_id, type: element.type, ...action });
  }

  function optionByValue(options, value) {
    for (const o of options || []) if (o.value === value) return o;
    return null;
  }
  function allOptions(el) {
    if (el.options) return el.options;
    return (el.option_groups || []).flatMap((g) => g.options);
  }
  function optionNodes(el, multi) {
    const nodes = multi ? [] : [h("option", { value: "" }, plain(el.placeholder) || "Choose…")];
    const initial = new Set((el.initial_options || (el.initial_option ? [el.initial_option] : [])).map((o) => o.value));
    const opt = (o) => h("option", { value: o.value, selected: initial.has(o.value) }, plain(o.text));
    if (el.option_groups) for (const g of el.option_groups) nodes.push(h("optgroup", { label: plain(g.label) }, g.options.map(opt)));
    else for (const o of el.options || []) nodes.push(opt(o));
    return nodes;
  }

  /* Each element renderer returns a node; inputs carry data-action-id and a _bkState() getter. */
  function stateful(node, block, el, getter) {
    node.dataset.actionId = el.action_id || "";
    node.dataset.blockId = block.block_id || "";
    node._bkState = getter;
    return node;
  }

  function select(el, block, ctx, multi, source) {
    const node = h("select", { class: "bk-select", multiple: multi, "data-testid": `select-${el.action_id}` });
    let options = [];
    if (source === "static") { node.append(...optionNodes(el, multi)); options = allOptions(el); }
    else {
      const list = source === "users" ? ctx.users || [] : ctx.channels || [];
      options = list.map((x) => ({ text: { type: "plain_text", text: x.name }, value: x.id }));
      node.append(...optionNodes({ ...el, options }, multi));
      const init = el.initial_user || el.initial_conversation || el.initial_channel;
      if (init) node.value = init;
    }
    const key = source === "users" ? "user" : source === "static" ? "option" : source === "channels" ? "channel" : "conversation";
    const getter = () => {
      const chosen = [...node.selectedOptions].map((o) => o.value).filter(Boolean);
      if (source === "static") {
        const opts = chosen.map((v) => optionByValue(options, v));
        return multi ? { type: el.type, selected_options: opts } : { type: el.type, selected_option: opts[0] || null };
      }
      return multi ? { type: el.type, [`selected_${key}s`]: chosen } : { type: el.type, [`selected_${key}`]: chosen[0] || null };
    };
    stateful(node, block, el, getter);
    if (ctx.dispatchOnChange(block, el)) node.addEventListener("change", () => dispatch(ctx, el, block, getter()));
    return node;
  }

  function externalSelect(el, block, ctx, multi) {
    const box = h("div", { class: "bk-external" });
    const input = h("input", { type: "text", placeholder: plain(el.placeholder) || "Type to search…",
      "data-testid": `external-${el.action_id}` });
    const list = h("div", { class: "suggestions" });
    let selected = multi ? [...(el.initial_options || [])] : el.initial_option || null;
    const chosen = h("div", { class: "bk-hint" });
    const show = () => { chosen.textContent = multi ? selected.map((o) => plain(o.text)).join(", ") : selected ? "Selected: " + plain(selected.text) : ""; };
    show();
    const getter = () => (multi ? { type: el.type, selected_options: selected } : { type: el.type, selected_option: selected });
    let timer = null;
    const refresh = () => {
      ctx.suggest({ action_id: el.action_id, block_id: block.block_id, value: input.value }).then((answer) => {
        list.replaceChildren();
        const opts = (answer.options || []).concat((answer.option_groups || []).flatMap((g) => g.options));
        for (const o of opts) {
          list.append(h("div", { "data-value": o.value, onclick: () => {
            if (multi) selected.push(o); else selected = o;
            show(); list.replaceChildren(); input.value = plain(o.text);
            if (ctx.dispatchOnChange(block, el)) dispatch(ctx, el, block, getter());
          } }, plain(o.text)));
        }
      });
    };
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 200); });
    input.addEventListener("focus", () => { if (!list.childElementCount) refresh(); });
    box.append(input, list, chosen);
    return stateful(box, block, el, getter);
  }

  function textInput(el, block, ctx, kind) {
    const attrs = { placeholder: plain(el.placeholder), "data-testid": `input-${el.action_id}` };
    let node;
    if (el.multiline || kind === "rich") node = h("textarea", { ...attrs, rows: 4 });
    else node = h("input", { ...attrs, type: { email: "email", url: "url", number: "number" }[kind] || "text" });
    node.value = el.initial_value !== undefined ? String(el.initial_value) : "";
    if (el.max_length) node.maxLength = el.max_length;
    return stateful(node, block, el, () => {
      if (kind === "rich") return { type: el.type, rich_text_value: { type: "rich_text", elements: [
        { type: "rich_text_section", elements: [{ type: "text", text: node.value }] }] } };
      return { type: el.type, value: node.value === "" ? null : node.value };
    });
  }

  function picker(el, block, ctx, kind) {
    const node = h("input", { type: kind, "data-testid": `picker-${el.action_id}` });
    if (el.initial_date) node.value = el.initial_date;
    if (el.initial_time) node.value = el.initial_time;
    const getter = () => {
      if (kind === "date") return { type: el.type, selected_date: node.value || null };
      if (kind === "time") return { type: el.type, selected_time: node.value || null };
      return { type: el.type, selected_date_time: node.value ? Math.floor(new Date(node.value).getTime() / 1000) : null };
    };
    stateful(node, block, el, getter);
    if (ctx.dispatchOnChange(block, el)) node.addEventListener("change", () => dispatch(ctx, el, block, getter()));
    return node;
  }

  function choices(el, block, ctx, multi) {
    const name = `${block.block_id}-${el.action_id}-${Math.random().toString(36).slice(2)}`;
    const initial = new Set((el.initial_options || (el.initial_option ? [el.initial_option] : [])).map((o) => o.value));
    const box = h("div", { class: "bk-choices" });
    for (const o of el.options || []) {
      box.append(h("label", {}, h("input", { type: multi ? "checkbox" : "radio", name, value: o.value, checked: initial.has(o.value) }),
        " ", textObj(o.text)));
    }
    const getter = () => {
      const vals = [...box.querySelectorAll("input:checked")].map((i) => optionByValue(el.options, i.value));
      return multi ? { type: el.type, selected_options: vals } : { type: el.type, selected_option: vals[0] || null };
    };
    stateful(box, block, el, getter);
    if (ctx.dispatchOnChange(block, el)) box.addEventListener("change", () => dispatch(ctx, el, block, getter()));
    return box;
  }

  function button(el, block, ctx, label) {
    return h("button", { class: `bk-button ${el.style || ""}`, type: "button", "data-action-id": el.action_id,
      "aria-label": el.accessibility_label || null,
      "data-testid": `button-${el.action_id}`, title: el.url || null,
      onclick: () => { if (el.url) window.open(el.url, "_blank"); dispatch(ctx, el, block, { value: el.value, text: el.text }); } },
    label || plain(el.text));
  }

  const ELEMENTS = {
    button: (el, b, ctx) => button(el, b, ctx),
    workflow_button: (el, b, ctx) => button(el, b, ctx),
    /* Shown only to visible_to_user_ids when given; the trash icon is the only one Slack offers. */
    icon_button: (el, b, ctx) => (el.visible_to_user_ids && !el.visible_to_user_ids.includes(ctx.user) ? h("span") :
      button(el, b, ctx, `${el.icon === "trash" ? "🗑️ " : ""}${plain(el.text)}`)),
    /* A click sends block_actions with the element's action_id and the chosen button's value and text. */
    feedback_buttons: (el, b, ctx) => h("span", { class: "bk-feedback" }, [["positive", el.positive_button], ["negative", el.negative_button]].map(([kind, x]) =>
      h("button", { class: `bk-button feedback-${kind}`, type: "button", "aria-label": x.accessibility_label || null,
        title: x.accessibility_label || null, "data-testid": `feedback-${kind}-${el.action_id || ""}`,
        onclick: () => dispatch(ctx, el, b, { value: x.value, text: x.text }) }, plain(x.text)))),
    overflow: (el, b, ctx) => {
      const node = h("select", { class: "bk-overflow", "data-testid": `overflow-${el.action_id}` },
        h("option", { value: "" }, "⋯"), el.options.map((o) => h("option", { value: o.value }, plain(o.text))));
      node.addEventListener("change", () => {
        const o = optionByValue(el.options, node.value);
        node.value = "";
        if (o) dispatch(ctx, el, b, { selected_option: o });
      });
      return node;
    },
    static_select: (el, b, ctx) => select(el, b, ctx, false, "static"),
    multi_static_select: (el, b, ctx) => select(el, b, ctx, true, "static"),
    users_select: (el, b, ctx) => select(el, b, ctx, false, "users"),
    multi_users_select: (el, b, ctx) => select(el, b, ctx, true, "users"),
    conversations_select: (el, b, ctx) => select(el, b, ctx, false, "conversations"),
    multi_conversations_select: (el, b, ctx) => select(el, b, ctx, true, "conversations"),
    channels_select: (el, b, ctx) => select(el, b, ctx, false, "channels"),
    multi_channels_select: (el, b, ctx) => select(el, b, ctx, true, "channels"),
    external_select: (el, b, ctx) => externalSelect(el, b, ctx, false),
    multi_external_select: (el, b, ctx) => externalSelect(el, b, ctx, true),
    plain_text_input: (el, b, ctx) => textInput(el, b, ctx, "text"),
    email_text_input: (el, b, ctx) => textInput(el, b, ctx, "email"),
    url_text_input: (el, b, ctx) => textInput(el, b, ctx, "url"),
    number_input: (el, b, ctx) => textInput(el, b, ctx, "number"),
    rich_text_input: (el, b, ctx) => textInput(el, b, ctx, "rich"),
    file_input: (el, b) => stateful(h("input", { type: "file", disabled: true, title: "not emulated" }), b, el, () => ({ type: el.type, files: [] })),
    datepicker: (el, b, ctx) => picker(el, b, ctx, "date"),
    timepicker: (el, b, ctx) => picker(el, b, ctx, "time"),
    datetimepicker: (el, b, ctx) => picker(el, b, ctx, "datetime-local"),
    checkboxes: (el, b, ctx) => choices(el, b, ctx, true),
    radio_buttons: (el, b, ctx) => choices(el, b, ctx, false),
    image: (el) => h("img", { class: "bk-image-acc", src: el.image_url || (el.slack_file && el.slack_file.url) || "", alt: el.alt_text }),
    mrkdwn: (el) => textObj(el),
    plain_text: (el) => textObj(el),
  };

  function element(el, block, ctx) {
    const fn = ELEMENTS[el.type];
    return fn ? fn(el, block, ctx) : h("span", { class: "bk-unknown" }, `[${el.type}]`);
  }

  function richElements(elements) {
    return (elements || []).map((e) => {
      if (e.type === "text") {
        let n = h("span", {}, e.text);
        const st = e.style || {};
        if (st.code) n = h("code", {}, n);
        if (st.bold) n = h("b", {}, n);
        if (st.italic) n = h("i", {}, n);
        if (st.strike) n = h("s", {}, n);
        return n;
      }
      if (e.type === "link") return h("a", { href: e.url, target: "_blank", rel: "noopener" }, e.text || e.url);
      if (e.type === "user") return h("span", { class: "mention" }, "@" + userName(e.user_id));
      if (e.type === "channel") return h("span", { class: "mention" }, "#" + e.channel_id);
      if (e.type === "usergroup") return h("span", { class: "mention" }, "@" + e.usergroup_id);
      if (e.type === "broadcast") return h("span", { class: "mention" }, "@" + e.range);
      if (e.type === "emoji") return h("span", {}, e.unicode ? String.fromCodePoint(...e.unicode.split("-").map((x) => parseInt(x, 16))) : `:${e.name}:`);
      if (e.type === "date") return h("span", {}, e.fallback || new Date(e.timestamp * 1000).toISOString());
      return h("span", {}, e.text || "");
    });
  }

  const RICH = {
    rich_text_section: (s) => h("div", {}, richElements(s.elements)),
    rich_text_preformatted: (s) => h("pre", {}, richElements(s.elements)),
    rich_text_quote: (s) => h("blockquote", {}, richElements(s.elements)),
    rich_text_list: (s) => h(s.style === "ordered" ? "ol" : "ul", {}, (s.elements || []).map((i) => h("li", {}, richElements(i.elements)))),
  };

  const BLOCKS = {
    header: (b) => h("div", { class: "bk-header" }, plain(b.text)),
    section: (b, ctx) => {
      const body = h("div", { class: "bk-body" });
      if (b.text) body.append(h("div", {}, textObj(b.text)));
      if (b.fields) body.append(h("div", { class: "bk-fields" }, b.fields.map((f) => h("div", {}, textObj(f)))));
      const node = h("div", { class: "bk-section" }, body);
      if (b.accessory) node.append(h("div", { class: "bk-accessory" }, element(b.accessory, b, ctx)));
      return node;
    },
    context: (b, ctx) => h("div", { class: "bk-context" }, (b.elements || []).map((e) => element(e, b, ctx))),
    divider: () => h("hr", { class: "bk-divider" }),
    actions: (b, ctx) => h("div", { class: "bk-actions" }, (b.elements || []).map((e) => element(e, b, ctx))),
    context_actions: (b, ctx) => h("div", { class: "bk-context-actions", "data-testid": "context-actions" },
      (b.elements || []).map((e) => element(e, b, ctx))),
    image: (b) => h("div", { class: "bk-image" }, b.title ? h("div", {}, plain(b.title)) : null,
      h("img", { src: b.image_url || (b.slack_file && b.slack_file.url) || "", alt: b.alt_text })),
    input: (b, ctx) => {
      const err = (ctx.errors || {})[b.block_id];
      return h("div", { class: "bk-input", "data-block-id": b.block_id },
        h("label", {}, plain(b.label), b.optional ? h("span", { class: "bk-hint" }, " (optional)") : null),
        element(b.element, b, ctx),
        b.hint ? h("div", { class: "bk-hint" }, plain(b.hint)) : null,
        err ? h("div", { class: "bk-error", "data-testid": `error-${b.block_id}` }, err) : null);
    },
    rich_text: (b) => h("div", { class: "bk-rich" }, (b.elements || []).map((s) => (RICH[s.type] || RICH.rich_text_section)(s))),
    markdown: (b) => h("div", { html: mrkdwn(b.text) }),
    file: (b) => h("div", { class: "bk-hint" }, `[file ${b.external_id || ""}]`),
    video: (b) => h("div", {}, h("a", { href: b.title_url || b.video_url, target: "_blank" }, plain(b.title) || "video")),
    table: (b) => h("table", { class: "bk-table" }, (b.rows || []).map((r) => h("tr", {}, r.map((c) =>
      h("td", {}, c.type === "rich_text" ? BLOCKS.rich_text(c) : c.text || ""))))),
    call: () => h("div", { class: "bk-hint" }, "[call]"),
  };

  function render(blocks, ctx) {
    const root = h("div", { class: "bk" });
    blocks.forEach((b, i) => {
      b = { ...b, block_id: b.block_id || `_b${i}` };
      const fn = BLOCKS[b.type];
      root.append(fn ? fn(b, ctx) : h("div", { class: "bk-unknown" }, `[${b.type} block]`));
    });
    return root;
  }

  /* {block_id: {action_id: state}} of every stateful element under `root`. */
  function collect(root) {
    const values = {};
    for (const node of root.querySelectorAll("[data-action-id]")) {
      if (!node._bkState) continue;
      (values[node.dataset.blockId] = values[node.dataset.blockId] || {})[node.dataset.actionId] = node._bkState();
    }
    return values;
  }

  window.BK = { render, collect, mrkdwn, textObj, plain, h, setUsers: (u) => { USERS = u; },
    BLOCKS: Object.keys(BLOCKS), ELEMENTS: Object.keys(ELEMENTS) };
})();
