// Reports and alerts: a weekly or monthly e-mail of the overview, goals and CX scores; an e-mail
// or a signed webhook (a trigger of kind alert, see the Triggers page) when a metric crosses a line
// or moves against its usual level.
import { $, api, clear, h, page, table } from "../app.js";
import { field, form, secret, siteQuery } from "../team.js";

const METRICS = [["visitors", "Visitors"], ["conversion_rate", "Conversion"], ["errors", "Errors"], ["nps", "NPS"]];

function describe(s) {
  if (s.kind === "report") return `${s.settings.period} report`;
  const rule = s.settings;
  const parts = [];
  if (rule.above !== null) parts.push(`above ${rule.above}`);
  if (rule.below !== null) parts.push(`below ${rule.below}`);
  if (rule.change !== null) parts.push(`moves ${Math.round(rule.change * 100)}% from usual`);
  return `alert: ${rule.metric} ${parts.join(" or ")}`;
}

const number = (value) => (value === "" || value === null ? null : Number(value));

function destinations(s) {
  const mail = s.recipients.length ? [h("span", { text: s.recipients.join(", ") })] : [];
  if (!s.webhook) return mail;
  const state = s.webhook.enabled ? h("span", { class: "status delivered", text: "on" })
    : h("span", { class: "status failed", title: s.webhook.disabled_reason || "", text: s.webhook.disabled_reason || "off" });
  const hook = h("span", { class: "webhook" }, "webhook ", h("a", { class: "mono", href: `/triggers?site=${encodeURIComponent(s.site)}`, text: s.webhook.url,
    title: `Trigger ${s.webhook.id}: its delivery log is on the Triggers page` }), " ", state);
  return mail.length ? [mail[0], h("br"), hook] : [hook];
}

async function render(note, created) {
  const query = await siteQuery();
  const { schedules, smtp } = await api("/api/reports", { query });
  const recipients = (data) => String(data.get("recipients")).split(",").map((r) => r.trim()).filter(Boolean);
  const [report, reportError] = form("report-form", [
    field("Every", h("select", { name: "period" }, h("option", { value: "weekly", text: "week" }), h("option", { value: "monthly", text: "month" }))),
    field("To (comma-separated)", h("input", { name: "recipients", required: true, placeholder: "team@example.com" })),
  ], "Schedule report", async (data) => {
    await api("/api/reports", { query, method: "POST", body: { kind: "report", period: data.get("period"), recipients: recipients(data) } });
    await render();
  });
  const [alert, alertError] = form("alert-form", [
    field("Metric", h("select", { name: "metric" }, METRICS.map(([v, t]) => h("option", { value: v, text: t })))),
    field("Above", h("input", { name: "above", type: "number", step: "any" })),
    field("Below", h("input", { name: "below", type: "number", step: "any" })),
    field("Moves by (share, e.g. 0.3)", h("input", { name: "change", type: "number", step: "any", min: 0 })),
    field("E-mail to (comma-separated)", h("input", { name: "recipients", placeholder: "ops@example.com" })),
    field("and/or webhook URL (signed)", h("input", { name: "webhook", type: "url", placeholder: "https://hooks.example.com/trailmark" })),
  ], "Add alert", async (data) => {
    const webhook = String(data.get("webhook") || "").trim();
    const made = await api("/api/reports", { query, method: "POST", body: { kind: "alert", metric: data.get("metric"), recipients: recipients(data),
      above: number(data.get("above")), below: number(data.get("below")), change: number(data.get("change")), ...(webhook ? { webhook } : {}) } });
    await render(undefined, made);
  });
  clear($("#page-body"),
    smtp ? [] : h("p", { class: "alert", role: "alert", text: "No SMTP server is set: no e-mail is sent until the operator sets TRAILMARK_SMTP_URL (webhooks still are)." }),
    note ? h("p", { class: "note", id: "report-note", text: note }) : [],
    created && created.secret ? secret("Webhook signing secret", created.secret,
      "Shown this once: keep it where your receiver verifies the Trailmark-Signature header (docs/triggers.md).") : [],
    h("section", { class: "panel" }, h("h2", { text: "Scheduled" }), h("div", { class: "table-wrap" }, table([
      ["What", describe],
      ["To", destinations],
      ["Last sent", (s) => (s.last_sent ? new Date(s.last_sent * 1000).toISOString().slice(0, 16).replace("T", " ") : "never")],
      ["", (s) => h("span", { class: "row" },
        h("button", { type: "button", class: "link", text: "Send now", onclick: async () => {
          try {
            const sent = await api(`/api/reports/${s.id}/send`, { query, method: "POST", body: {} });
            const hook = sent.webhook_queued === undefined ? "" : sent.webhook_queued ? " (webhook queued)" : " (webhook: queued already today, or off)";
            await render(sent.sent ? `Sent: ${sent.subject}${hook}` : `Not sent: ${sent.why}`);
          } catch (e) {
            await render(e.message);
          }
        } }),
        h("button", { type: "button", class: "link danger", text: "Delete", onclick: async () => {
          await api(`/api/reports/${s.id}`, { query, method: "DELETE" });
          await render();
        } }))],
    ], schedules, { empty: "No reports or alerts yet.", id: "reports-table" }))),
    h("section", { class: "grid-2" },
      h("div", { class: "panel" }, h("h2", { text: "New report" }), report, reportError),
      h("div", { class: "panel" }, h("h2", { text: "New alert" }), alert, alertError)));
}

page(() => render());
