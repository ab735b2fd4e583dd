// The calculator page: digits in boxes, a wide box and photos, read on the server; a tape and a running total.
"use strict";

const BOXES = 6;
const LOW = 0.9;              // a box's reading less sure than this is shown in red (the server's doubt threshold)
const PHOTO_SIDE = 1600;      // photos are scaled down to this longer side before upload
const boxes = [];
const tape = [];              // {number: BigInt, digits: [{digit, probability}]}

function drawable(canvas, {ink, paper, width}, onStroke) {
  const ctx = canvas.getContext("2d");
  const pad = {canvas, ctx, inked: false};
  pad.clear = () => {
    ctx.fillStyle = paper; ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.strokeStyle = ink; ctx.lineWidth = width; ctx.lineCap = "round"; ctx.lineJoin = "round";
    pad.inked = false;
  };
  pad.clear();
  let drawing = false;
  const at = (e) => {
    const r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  };
  canvas.addEventListener("pointerdown", (e) => {
    drawing = true; canvas.setPointerCapture(e.pointerId);
    const [x, y] = at(e); ctx.beginPath(); ctx.moveTo(x, y); ctx.lineTo(x + 0.1, y); ctx.stroke(); pad.inked = true;
  });
  canvas.addEventListener("pointermove", (e) => {
    if (!drawing) return;
    const [x, y] = at(e); ctx.lineTo(x, y); ctx.stroke(); pad.inked = true;
  });
  const stop = () => { if (drawing) { drawing = false; onStroke(); } };
  canvas.addEventListener("pointerup", stop);
  canvas.addEventListener("pointercancel", stop);
  return pad;
}

function makeBox() {
  const cell = document.createElement("div");
  cell.className = "cell";
  const canvas = document.createElement("canvas");
  canvas.width = 140; canvas.height = 140; canvas.className = "box";
  const reading = document.createElement("span");
  reading.className = "reading";
  const box = drawable(canvas, {ink: "#fff", paper: "#000", width: 12}, () => readBox(box));
  Object.assign(box, {cell, reading, read: null});
  canvas.addEventListener("dblclick", () => clearBox(box));
  cell.append(canvas, reading);
  return box;
}

function clearBox(box) { box.clear(); box.read = null; box.asked = (box.asked || 0) + 1; showReading(box); }

function showReading(box) {
  const r = box.read;
  box.reading.textContent = r ? `${r.digit} · ${(100 * r.probability).toFixed(0)}%` : "";
  box.reading.classList.toggle("low", Boolean(r) && r.probability < LOW);
}

function status(text) { document.getElementById("status").textContent = text; }

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
  const data = await response.json();
  if (!response.ok) throw new Error(data.detail || response.statusText);
  return data;
}

// each box is read as soon as a stroke ends, so a misread digit shows before it is added
// (only the answer to the box's latest request is shown: an earlier stroke's answer may come later)
async function readBox(box) {
  const asked = box.asked = (box.asked || 0) + 1;
  try {
    const read = await api("/api/read", {digits: [box.canvas.toDataURL("image/png")]});
    if (asked !== box.asked) return;
    box.read = read.digits[0]; showReading(box); status("");
  } catch (err) { if (asked === box.asked) { box.read = null; showReading(box); status(err.message); } }
}

function render() {
  const list = document.getElementById("tape");
  list.replaceChildren();
  let total = 0n;
  for (const entry of tape) {
    total += entry.number;
    const li = document.createElement("li");
    const digits = entry.digits.map((d) =>
      `<span class="digit${d.doubtful ? " low" : ""}">${d.digit}<span class="conf"> ${(100 * d.probability).toFixed(1)}%</span></span>`).join("");
    li.innerHTML = `${digits} → <b>${entry.number}</b> <span class="running">(running ${total})</span>`;
    list.appendChild(li);
  }
  document.getElementById("total").textContent = total.toString();
}

function addNumbers(numbers) {
  const entries = numbers.map((n) => ({number: BigInt(n.number), digits: n.digits}));
  tape.push(...entries);
  render();
  return entries;
}

async function add() {
  const inked = boxes.filter((b) => b.inked);
  if (inked.length === 0) { status("Write at least one digit first."); return; }
  try {
    const read = await api("/api/read", {digits: inked.map((b) => b.canvas.toDataURL("image/png"))});
    addNumbers([read]);
    boxes.forEach(clearBox); status("");
  } catch (err) { status(err.message); }
}

// the last picture read: its numbers' digits are the tape's own objects, so a correction shows in both
let found = null;

// draw the picture with a box and the reading over every digit found: doubtful ones in red,
// corrected ones in blue; a tap on a box opens the digit picker for it
function showFound() {
  const {image, numbers, scale} = found;
  const canvas = document.getElementById("found");
  canvas.width = image.width * scale; canvas.height = image.height * scale;
  const ctx = canvas.getContext("2d");
  ctx.drawImage(image, 0, 0, canvas.width, canvas.height);
  ctx.lineWidth = 2; ctx.font = "14px monospace";
  for (const n of numbers) {
    for (const d of n.digits) {
      const [x0, y0, x1, y1] = d.box.map((v) => v * scale);
      ctx.strokeStyle = ctx.fillStyle = d.corrected ? "#1f5fbf" : d.doubtful ? "#c0392b" : "#1e7a44";
      ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
      ctx.fillText(d.corrected ? `${d.digit} ✓` : `${d.digit} ${(100 * d.probability).toFixed(0)}%`, x0, Math.max(12, y0 - 3));
    }
  }
}

function digitAt(event) {
  const canvas = document.getElementById("found");
  const rect = canvas.getBoundingClientRect();
  const x = (event.clientX - rect.left) * canvas.width / rect.width / found.scale;
  const y = (event.clientY - rect.top) * canvas.height / rect.height / found.scale;
  for (const entry of found.entries) {
    for (const d of entry.digits) {
      const [x0, y0, x1, y1] = d.box;
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) return {entry, d};
    }
  }
  return null;
}

function pick(event) {
  if (!found) return;
  const hit = digitAt(event);
  const picker = document.getElementById("picker");
  picker.hidden = !hit;
  if (!hit) return;
  picker.target = hit;
  document.getElementById("picking").textContent = `read as ${hit.d.digit}: the digit is`;
}

function correct(digit) {
  const picker = document.getElementById("picker");
  const {entry, d} = picker.target;
  Object.assign(d, {digit, probability: 1, doubtful: false, corrected: true});
  entry.number = BigInt(entry.digits.map((x) => x.digit).join(""));
  picker.hidden = true;
  render(); showFound();
}

async function readPicture(url, image) {
  try {
    const read = await api("/api/picture", {picture: url});
    const entries = addNumbers(read.numbers);
    if (image) { found = {image, numbers: read.numbers, entries, scale: Math.min(1, 600 / image.width)}; showFound(); }
    status("");
    return true;
  } catch (err) { status(err.message); return false; }
}

async function readPhoto(file) {
  const bitmap = await createImageBitmap(file);        // upright: the browser applies EXIF orientation
  const scale = Math.min(1, PHOTO_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale); canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  await readPicture(canvas.toDataURL("image/jpeg", 0.92), canvas);
}

async function randomDigits() {
  const count = 1 + Math.floor(Math.random() * 3);
  try {
    const {digits} = await api(`/api/random?count=${count}`);
    boxes.forEach(clearBox);
    await Promise.all(digits.map((url, i) => new Promise((resolve) => {
      const img = new Image();
      img.onload = () => { boxes[i].ctx.drawImage(img, 0, 0, 140, 140); boxes[i].inked = true; resolve(readBox(boxes[i])); };
      img.src = url;
    })));
    status("");
  } catch (err) { status(err.message); }
}

document.addEventListener("DOMContentLoaded", () => {
  const row = document.getElementById("boxes");
  for (let i = 0; i < BOXES; i++) { const b = makeBox(); boxes.push(b); row.appendChild(b.cell); }
  const wide = drawable(document.getElementById("wide"), {ink: "#111", paper: "#fff", width: 8}, () => {});
  document.getElementById("add").addEventListener("click", add);
  document.getElementById("random").addEventListener("click", randomDigits);
  document.getElementById("clear").addEventListener("click", () => { boxes.forEach(clearBox); status(""); });
  document.getElementById("undo").addEventListener("click", () => { tape.pop(); render(); });
  document.getElementById("read-wide").addEventListener("click", async () => {
    if (!wide.inked) { status("Write a number in the wide box first."); return; }
    if (await readPicture(wide.canvas.toDataURL("image/png"), wide.canvas)) wide.clear();
  });
  document.getElementById("clear-wide").addEventListener("click", () => wide.clear());
  document.getElementById("found").addEventListener("click", pick);
  const digits = document.getElementById("digits");
  for (let k = 0; k < 10; k++) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = k; b.className = "pick";
    b.addEventListener("click", () => correct(k));
    digits.appendChild(b);
  }
  document.getElementById("photo").addEventListener("change", (e) => {
    if (e.target.files.length) readPhoto(e.target.files[0]);
  });
  render();
});
