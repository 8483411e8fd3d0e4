// todo's own few lines of JavaScript: the live bell and inbox, toasts, and the signup timezone guess.
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

function addToInbox(note) {
  const inbox = document.getElementById("inbox");
  if (!inbox) return;
  inbox.querySelector(".empty")?.remove();
  const item = document.createElement("li");
  item.className = "note unread";
  const body = document.createElement("div");
  body.className = "body";
  const strong = document.createElement("strong");
  strong.textContent = note.title;
  const text = document.createElement("p");
  text.textContent = note.body;
  const when = document.createElement("time");
  when.className = "hint";
  when.textContent = "just now";
  body.append(strong, text, when);
  item.append(body);
  inbox.prepend(item);
}

function listen() {
  const bell = document.querySelector(".bell[data-live]");
  if (!bell || !window.EventSource) return;
  const source = new EventSource(bell.dataset.live);
  source.addEventListener("unread", (event) => setUnread(JSON.parse(event.data).unread));
  source.addEventListener("notification", (event) => {
    const note = JSON.parse(event.data);
    toast(note.title, note.body);
    addToInbox(note);
  });
}

document.addEventListener("DOMContentLoaded", () => {
  detectTimezone();
  listen();
});
