// The calculator page: draw digits in boxes, read them on the server, keep a tape and a running total.
"use strict";

const BOXES = 6;
const boxes = [];
const tape = [];   // {number: BigInt, digits: [{digit, probability}]}

function makeBox() {
  const canvas = document.createElement("canvas");
  canvas.width = 140; canvas.height = 140; canvas.className = "box";
  const ctx = canvas.getContext("2d");
  const box = {canvas, ctx, inked: false};
  clearBox(box);
  let drawing = false;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  canvas.addEventListener("pointerdown", (e) => {
    drawing = true; canvas.setPointerCapture(e.pointerId);
    const [x, y] = at(e); ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 0.1, y); ctx.stroke(); box.inked = true;
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = at(e); ctx.lineTo(x, y); ctx.stroke(); box.inked = true;
  });
  const stop = () => { drawing = false; };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  return box;
}

function clearBox(box) {
  box.ctx.fillStyle = "#000"; box.ctx.fillRect(0, 0, box.canvas.width, box.canvas.height);
  box.ctx.strokeStyle = "#fff"; box.ctx.lineWidth = 12; box.ctx.lineCap = "round"; box.ctx.lineJoin = "round";
  box.inked = false;
}

function status(text) { document.getElementById("status").textContent = text; }

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const data = await response.json();
  if (!response.ok) throw new Error(data.detail || response.statusText);
  return data;
}

function render() {
  const list = document.getElementById("tape");
  list.replaceChildren();
  let total = 0n;
  for (const entry of tape) {
    total += entry.number;
    const li = document.createElement("li");
    const digits = entry.digits.map((d) =>
      `<span class="digit">${d.digit}<span class="conf"> ${(100 * d.probability).toFixed(1)}%</span></span>`).join("");
    li.innerHTML = `${digits} → <b>${entry.number}</b> <span class="running">(running ${total})</span>`;
    list.appendChild(li);
  }
  document.getElementById("total").textContent = total.toString();
}

async function add() {
  const inked = boxes.filter((b) => b.inked);
  if (inked.length === 0) { status("Write at least one digit first."); return; }
  try {
    const read = await api("/api/read", {digits: inked.map((b) => b.canvas.toDataURL("image/png"))});
    tape.push({number: BigInt(read.number), digits: read.digits});
    boxes.forEach(clearBox); status(""); render();
  } catch (err) { status(err.message); }
}

async function randomDigits() {
  const count = 1 + Math.floor(Math.random() * 3);
  try {
    const {digits} = await api(`/api/random?count=${count}`);
    boxes.forEach(clearBox);
    await Promise.all(digits.map((url, i) => new Promise((resolve) => {
      const img = new Image();
      img.onload = () => { boxes[i].ctx.drawImage(img, 0, 0, 140, 140); boxes[i].inked = true; resolve(); };
      img.src = url;
    })));
    status("");
  } catch (err) { status(err.message); }
}

document.addEventListener("DOMContentLoaded", () => {
  const row = document.getElementById("boxes");
  for (let i = 0; i < BOXES; i++) { const b = makeBox(); boxes.push(b); row.appendChild(b.canvas); }
  document.getElementById("add").addEventListener("click", add);
  document.getElementById("random").addEventListener("click", randomDigits);
  document.getElementById("clear").addEventListener("click", () => { boxes.forEach(clearBox); status(""); });
  document.getElementById("undo").addEventListener("click", () => { tape.pop(); render(); });
  render();
});
