// todo's own few lines of JavaScript: the live bell, toasts, parts of pages kept fresh, and the signup
// timezone guess.
"use strict";

function detectTimezone() {
  const input = document.querySelector("input[data-detect-timezone]");
  if (input && (!input.value || input.value === "UTC")) {
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) input.value = zone;
  }
}

function setUnread(count) {
  const badge = document.getElementById("unread-count");
  const bell = document.querySelector(".bell");
  if (!badge || !bell) return;
  badge.textContent = String(count);
  badge.classList.toggle("empty", count === 0);
  bell.setAttribute("aria-label", `Notifications, ${count} unread`);
}

function toast(title, body) {
  const box = document.getElementById("toasts");
  if (!box) return;
  const item = document.createElement("div");
  item.className = "toast";
  const strong = document.createElement("strong");
  strong.textContent = title;
  const text = document.createElement("p");
  text.textContent = body;
  item.append(strong, text);
  box.append(item);
  setTimeout(() => item.remove(), 8000);
}

// Parts of a page marked data-refresh (the dashboard's groups, the inbox) are fetched again from the
// server: every half minute, so that "in 5 minutes" and due states move on, and at once when a
// notification arrives. The server renders them, in the user's time zone, as on the first load. A part
// is left alone while the tab is hidden or the user is working inside it.
const REFRESH_SECONDS = 30;

async function refresh() {
  const parts = [...document.querySelectorAll("[data-refresh][id]")]
    .filter((part) => !part.contains(document.activeElement));
  if (!parts.length || document.hidden) return;
  const answer = await fetch(location.href, { headers: { Accept: "text/html" } });
  if (!answer.ok || answer.redirected) return;
  const fresh = new DOMParser().parseFromString(await answer.text(), "text/html");
  for (const part of parts) {
    const replacement = fresh.getElementById(part.id);
    if (replacement && !part.contains(document.activeElement)) part.replaceWith(replacement);
  }
}

function listen() {
  const bell = document.querySelector(".bell[data-live]");
  if (!bell || !window.EventSource) return;
  const source = new EventSource(bell.dataset.live);
  // After a reconnect the stream resumes from the last id it sent and may repeat a few: toast each once.
  const toasted = new Set();
  source.addEventListener("unread", (event) => setUnread(JSON.parse(event.data).unread));
  source.addEventListener("notification", (event) => {
    if (toasted.has(event.lastEventId)) return;
    toasted.add(event.lastEventId);
    const note = JSON.parse(event.data);
    toast(note.title, note.body);
    refresh();
  });
}

// The recurring form shows only what applies to the frequency chosen (weekdays for weekly, the day of
// the month for monthly); without JavaScript it shows everything, and the server ignores what does not
// apply.
function showWhatApplies() {
  const frequency = document.getElementById("s-type");
  if (!frequency) return;
  const update = () => {
    for (const part of document.querySelectorAll("[data-for]")) part.hidden = part.dataset.for !== frequency.value;
  };
  frequency.addEventListener("change", update);
  update();
}

// A form with data-confirm (deleting a task) asks first.
function confirmForms() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

// The new-task box reads plain words ("Call mum tomorrow 18:00 #family"): as the user types, the server
// says in a sentence what it would add. The form's own due, tags and priority fields make the title
// literal, so then there is nothing to preview.
const PREVIEW_DELAY_MS = 300;

function previewQuickAdd() {
  const form = document.querySelector("form[data-preview]");
  if (!form) return;
  const box = form.querySelector("#qa-preview");
  const hint = box.textContent;
  let timer;
  let asked = 0;
  const literal = () => form.elements.due.value || form.elements.tags.value.trim() || form.elements.priority.value !== "2";
  const ask = async () => {
    const text = form.elements.title.value.trim();
    if (!text || literal()) {
      box.textContent = text ? "" : hint;
      return;
    }
    const mine = ++asked;
    const body = new URLSearchParams({ csrf_token: form.elements.csrf_token.value, text });
    const answer = await fetch(form.dataset.preview, { method: "POST", body });
    if (answer.ok && mine === asked) box.textContent = await answer.text();
  };
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(ask, PREVIEW_DELAY_MS);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  previewQuickAdd();
  confirmForms();
  showWhatApplies();
  detectTimezone();
  listen();
  setInterval(refresh, REFRESH_SECONDS * 1000);
  document.addEventListener("visibilitychange", refresh);
});
