/* The playground page: poll /playground/state, render it, send what the user does.
 * The DM is the app's Messages tab (agent view): each top-level message starts a thread; threads show the
 * app's status line, title and suggested prompts; the DM's own suggested prompts are chips above the composer. */
(function () {
  "use strict";
  const { h, render, collect, mrkdwn, plain } = window.BK;
  const params = new URLSearchParams(location.search);
  let user = params.get("user") || localStorage.getItem("projectops-user") || "U0ADMIN";
  let view = "channel";
  let last = { timeline: "", modal: "", home: "", prompts: "" };
  let replyTo = null; /* thread_ts the composer answers in, or null for a new top-level message */
  let state = null;

  const $ = (id) => document.getElementById(id);
  const switcher = $("user-switcher");
  switcher.value = user;

  function channel() { return view === "dm" ? "D" + user.slice(1) : "C0OPS"; }

  async function post(path, body) {
    const r = await fetch(`/playground/${path}`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ user, ...body }) });
    const answer = await r.json().catch(() => ({}));
    if (!r.ok || answer.ok === false) $("status").textContent = `${path}: ${answer.error || "HTTP " + (answer.status || r.status)}`;
    else $("status").textContent = "";
    poll();
    return answer;
  }

  function users() { return (state ? state.users : []).map((u) => ({ id: u.id, name: u.name })); }
  function baseCtx(extra) {
    return { user, users: users(), channels: [{ id: "C0OPS", name: "ops" }],
      dispatchOnChange: (block, el) => block.type !== "input" || !!block.dispatch_action, ...extra };
  }

  /* Send what the person wrote: a slash command, or words (a DM message / a mention), in `thread` if given. */
  function say(text, thread) {
    if (text.startsWith("/")) return post("command", { channel: channel(), text });
    return post("mention", { channel: channel(), text, ...(thread ? { thread_ts: thread } : {}) });
  }

  function promptChips(prompts, thread) {
    return h("div", { class: "prompts", "data-testid": thread ? "thread-prompts" : "suggested-prompts" },
      prompts.title ? h("span", { class: "prompts-title" }, prompts.title) : null,
      (prompts.prompts || []).map((p) => h("button", { class: "prompt-chip", type: "button", "data-testid": "suggested-prompt",
        title: p.message, onclick: () => say(p.message, thread) }, p.title)));
  }

  /* "projectops is thinking…"; loading_messages, when given, rotate in its place (see rotateStatus). */
  function statusNode(status) {
    const node = h("div", { class: "assistant-status", "data-testid": "assistant-status" });
    node._bkStatus = status;
    node.textContent = statusText(status);
    return node;
  }
  function statusText(status) {
    const loading = status.loading_messages || [];
    if (loading.length) return loading[Math.floor(Date.now() / 2000) % loading.length];
    return `projectops ${status.status}`;
  }
  function rotateStatus() {
    for (const node of document.querySelectorAll(".assistant-status")) if (node._bkStatus) node.textContent = statusText(node._bkStatus);
  }

  function messageNode(item, nested) {
    const m = item.message;
    const who = item.kind === "echo" || (m.user && m.user !== "U0BOT") ? nameOf(m.user) : "projectops";
    const time = new Date(parseFloat(m.ts) * 1000).toLocaleTimeString();
    const node = h("div", { class: `msg ${item.kind}`, "data-ts": m.ts, "data-kind": item.kind, "data-testid": "message" },
      h("div", {}, h("span", { class: "who" }, who, m.bot_id ? " APP" : ""), h("span", { class: "when" }, time),
        m.edited ? h("span", { class: "edited" }, " (edited)") : null));
    if (item.kind === "echo") node.append(h("div", {}, m.text));
    else if (m.blocks && m.blocks.length) {
      const ctx = baseCtx({ act: (action) => post("action", { channel: channel(), ts: m.ts, ephemeral: item.kind === "ephemeral",
        action, values: collect(node) }), suggest: (q) => post("suggest", { channel: channel(), ...q }) });
      node.append(render(m.blocks, ctx));
    } else node.append(h("div", { html: mrkdwn(m.text) }));
    if (item.kind === "ephemeral") node.append(h("div", { class: "only-you" }, "Only visible to you"));
    if (nested) return node;
    const replies = item.replies || [];
    if (replies.length || item.status || item.title || item.prompts) {
      node.append(h("div", { class: "thread", "data-testid": "thread", "data-thread-ts": m.ts },
        item.title ? h("div", { class: "thread-title", "data-testid": "thread-title" }, item.title) : null,
        replies.length ? h("div", { class: "thread-label" }, `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`) : null,
        replies.map((r) => messageNode(r, true)),
        item.status ? statusNode(item.status) : null,
        item.prompts ? promptChips(item.prompts, m.ts) : null));
    }
    if (item.kind === "message") {
      node.append(h("a", { href: "#", class: "reply-link", "data-testid": "reply-in-thread",
        onclick: (e) => { e.preventDefault(); replyIn(m.ts); } }, "Reply in thread"));
    }
    return node;
  }

  function nameOf(id) { const u = (state ? state.users : []).find((x) => x.id === id); return u ? u.name : id; }

  function renderTimeline() {
    const items = state.channels[channel()] || [];
    const key = JSON.stringify([channel(), items]);
    if (key === last.timeline) return;
    last.timeline = key;
    const tl = $("timeline");
    const atBottom = tl.scrollHeight - tl.scrollTop - tl.clientHeight < 40;
    tl.replaceChildren(...items.map((item) => messageNode(item, false)));
    if (atBottom) tl.scrollTop = tl.scrollHeight;
  }

  /* The DM's suggested prompts (setSuggestedPrompts without thread_ts) as chips above the composer. */
  function renderPrompts() {
    const prompts = view === "dm" ? (state.prompts || {})[channel()] : null;
    const key = JSON.stringify([channel(), prompts || null]);
    if (key === last.prompts) return;
    last.prompts = key;
    const box = $("prompts");
    box.hidden = !prompts;
    box.replaceChildren(...(prompts ? [promptChips(prompts, null)] : []));
  }

  function replyIn(ts) {
    replyTo = ts;
    $("replying").hidden = !ts;
    $("replying-ts").textContent = ts || "";
    if (ts) $("composer-input").focus();
  }

  function renderHome() {
    const key = JSON.stringify(state.home);
    if (key === last.home) return;
    last.home = key;
    const home = state.home;
    const box = $("home");
    if (!home) { box.replaceChildren(h("div", { class: "bk-hint" }, "No Home tab published yet.")); return; }
    const ctx = baseCtx({ act: (action) => post("action", { view_id: home.id, action, values: collect(box) }),
      suggest: (q) => post("suggest", { view_id: home.id, ...q }) });
    box.replaceChildren(render(home.blocks || [], ctx));
  }

  function renderModal() {
    const modal = state.modal;
    const key = JSON.stringify(modal);
    if (key === last.modal) return;
    last.modal = key;
    const root = $("modal-root");
    if (!modal) { root.replaceChildren(); return; }
    const body = h("div", { class: "body" });
    const ctx = baseCtx({ errors: modal.errors, act: (action) => post("action", { view_id: modal.id, action, values: collect(body) }),
      suggest: (q) => post("suggest", { view_id: modal.id, ...q }) });
    body.append(render(modal.blocks || [], ctx));
    const submit = () => post("submit", { view_id: modal.id, values: collect(body) });
    root.replaceChildren(h("div", { class: "overlay", "data-testid": "modal", "data-callback-id": modal.callback_id || "" },
      h("div", { class: "dialog" },
        h("header", {}, h("span", { "data-testid": "modal-title" }, plain(modal.title)),
          modal.depth > 1 ? h("span", { class: "bk-hint" }, `step ${modal.depth}`) : null),
        body,
        h("footer", {},
          h("button", { class: "bk-button", "data-testid": "modal-close", onclick: () => post("close", { view_id: modal.id }) },
            plain(modal.close) || "Cancel"),
          modal.submit ? h("button", { class: "bk-button primary", "data-testid": "modal-submit", onclick: submit },
            plain(modal.submit)) : null))));
  }

  async function poll() {
    try {
      const r = await fetch(`/playground/state?user=${encodeURIComponent(user)}`, { cache: "no-store" });
      state = await r.json();
    } catch (e) { $("status").textContent = "emulator unreachable"; return; }
    if (!state.connected) $("status").textContent = "no app connected (start with `make demo`)";
    window.BK.setUsers({ U0BOT: "projectops", ...Object.fromEntries(state.users.map((u) => [u.id, u.name])) });
    renderTimeline();
    renderPrompts();
    rotateStatus();
    renderHome();
    renderModal();
    document.body.dataset.user = user;
  }

  function show(which) {
    view = which;
    for (const a of document.querySelectorAll(".nav-item")) a.classList.toggle("active", a.dataset.view === which);
    $("title").textContent = which === "channel" ? "# ops" : which === "dm" ? "projectops · Messages" : "projectops · Home";
    $("timeline").hidden = which === "home";
    $("home").hidden = which !== "home";
    $("composer").hidden = which === "home";
    $("composer-input").placeholder = which === "dm" ? "Ask in plain words, e.g. how many phoenix projects are there"
      : "/projects list polaris   or   @projectops which jobs are failing?";
    last.timeline = "";
    last.prompts = "";
    replyIn(null);
    if (which === "home") post("home", { tab: "home" });
    else if (which === "dm") post("home", { tab: "messages" });
    poll();
  }

  for (const a of document.querySelectorAll(".nav-item")) a.addEventListener("click", (e) => { e.preventDefault(); show(a.dataset.view); });
  switcher.addEventListener("change", () => {
    user = switcher.value;
    localStorage.setItem("projectops-user", user);
    last = { timeline: "", modal: "", home: "", prompts: "" };
    show(view);
  });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    say(text, replyTo);
  });
  $("replying-cancel").addEventListener("click", (e) => { e.preventDefault(); replyIn(null); });
  poll();
  setInterval(poll, 500);
})();
