/* The playground page: poll /playground/state, render it, send what the user does. */
(function () {
  "use strict";
  const { h, render, collect, mrkdwn, plain } = window.BK;
  const params = new URLSearchParams(location.search);
  let user = params.get("user") || localStorage.getItem("projectops-user") || "U0ADMIN";
  let view = "channel";
  let last = { timeline: "", modal: "", home: "" };
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
    return { users: users(), channels: [{ id: "C0OPS", name: "ops" }],
      dispatchOnChange: (block, el) => block.type !== "input" || !!block.dispatch_action, ...extra };
  }

  function messageNode(item) {
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
    if (item.replies && item.replies.length) {
      node.append(h("div", { class: "thread", "data-testid": "thread" },
        h("div", { class: "thread-label" }, `${item.replies.length} ${item.replies.length === 1 ? "reply" : "replies"}`),
        item.replies.map(messageNode)));
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
    tl.replaceChildren(...items.map(messageNode));
    if (atBottom) tl.scrollTop = tl.scrollHeight;
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
    renderHome();
    renderModal();
    document.body.dataset.user = user;
  }

  function show(which) {
    view = which;
    for (const a of document.querySelectorAll(".nav-item")) a.classList.toggle("active", a.dataset.view === which);
    $("title").textContent = which === "channel" ? "# ops" : which === "dm" ? "projectops" : "projectops · Home";
    $("timeline").hidden = which === "home";
    $("home").hidden = which !== "home";
    $("composer").hidden = which === "home";
    last.timeline = "";
    if (which === "home") post("home", {});
    poll();
  }

  for (const a of document.querySelectorAll(".nav-item")) a.addEventListener("click", (e) => { e.preventDefault(); show(a.dataset.view); });
  switcher.addEventListener("change", () => {
    user = switcher.value;
    localStorage.setItem("projectops-user", user);
    last = { timeline: "", modal: "", home: "" };
    show(view);
  });
  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    if (text.startsWith("/")) post("command", { channel: channel(), text });
    else post("mention", { channel: channel(), text });
  });
  poll();
  setInterval(poll, 500);
})();
