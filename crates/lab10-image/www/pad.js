// The drawing page that `lab10 serve` and `lab10 site` share: the pad (pointer events, black
// strokes 18 px wide on a transparent 280x280 canvas, whose alpha channel is the ink), the
// 28x28 image the models read, and the table of models with their probability bars. Where a
// prediction comes from is the caller's: serve.js asks `lab10 serve`'s API, site.js the models
// compiled to WebAssembly. No build step, no dependency: an ES module served as it is.

// One row per model in `tbody`: `models` are `{ key, label, detail, title, accuracy }` (detail:
// a second line in small print; accuracy: the test accuracy in %, or null).
export function modelRows(tbody, models, classes) {
  tbody.textContent = "";
  const rows = [];
  for (const m of models) {
    const tr = document.createElement("tr");
    tr.className = "model";
    tr.dataset.model = m.key;
    tr.innerHTML = `<td class="name"></td><td class="acc"></td><td class="predicted">&ndash;</td>
      <td><div class="bars"></div></td><td class="conf"></td>`;
    const name = tr.querySelector(".name");
    name.textContent = m.label;
    name.title = m.title || "";
    if (m.detail) {
      const small = document.createElement("span");
      small.className = "small";
      small.textContent = m.detail;
      name.append(document.createElement("br"), small);
    }
    tr.querySelector(".acc").textContent =
      m.accuracy == null ? "n/a" : m.accuracy.toFixed(2) + " %";
    const bars = tr.querySelector(".bars");
    classes.forEach((c, k) => {
      const bar = document.createElement("div");
      bar.className = "bar";
      bar.title = c;
      bar.innerHTML = `<div class="fill" style="height:0%"></div><div class="digit"></div>`;
      bar.querySelector(".digit").textContent = c.length <= 2 ? c : String(k);
      bars.appendChild(bar);
    });
    tbody.appendChild(tr);
    rows.push(tr);
  }
  return rows;
}

// A model's probabilities on its row (null clears it); returns the class it predicts (-1).
export function showRow(tr, probabilities, classes) {
  const p = probabilities;
  const predicted = p ? p.reduce((best, v, k) => (v > p[best] ? k : best), 0) : -1;
  tr.querySelectorAll(".bar").forEach((bar, k) => {
    const v = p ? p[k] : 0;
    bar.dataset.p = String(v);
    bar.classList.toggle("top", k === predicted);
    bar.querySelector(".fill").style.height = (100 * v).toFixed(1) + "%";
    bar.title = `${classes[k]}: ${(100 * v).toFixed(1)} %`;
  });
  tr.dataset.predicted = p ? String(predicted) : "";
  tr.querySelector(".predicted").textContent = p ? classes[predicted] : "\u2013";
  tr.querySelector(".conf").textContent = p ? (100 * p[predicted]).toFixed(1) + " %" : "";
  return predicted;
}

// The 28x28 image the models read (values 0-1, or null for none), on the small canvas.
export function showSeen(canvas, input) {
  const seen = canvas.getContext("2d");
  const image = seen.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = input ? Math.round(input[i] * 255) : 0;
    image.data.set([v, v, v, 255], 4 * i);
  }
  seen.putImageData(image, 0, 0);
}

// The drawing pad. `onInk()` is called as the drawing changes (at most once a frame) and when a
// stroke ends; `onStroke()` when a stroke starts.
export class Pad {
  constructor(canvas, { onInk, onStroke }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d", { willReadFrequently: true });
    this.onInk = onInk;
    this.pending = null;
    let drawing = false;
    let last = null;
    const point = (event) => {
      const r = canvas.getBoundingClientRect();
      return {
        x: (event.clientX - r.left) * canvas.width / r.width,
        y: (event.clientY - r.top) * canvas.height / r.height,
      };
    };
    canvas.addEventListener("pointerdown", (event) => {
      drawing = true;
      onStroke();
      canvas.setPointerCapture(event.pointerId);
      last = point(event);
      this.ctx.beginPath();
      this.ctx.arc(last.x, last.y, 9, 0, 2 * Math.PI);
      this.ctx.fill();
      this.changed();
    });
    canvas.addEventListener("pointermove", (event) => {
      if (!drawing) return;
      const p = point(event);
      this.ctx.beginPath();
      this.ctx.moveTo(last.x, last.y);
      this.ctx.lineTo(p.x, p.y);
      this.ctx.stroke();
      last = p;
      this.changed();
    });
    for (const type of ["pointerup", "pointercancel"]) {
      canvas.addEventListener(type, () => {
        if (!drawing) return;
        drawing = false;
        this.changed();
      });
    }
    this.clear();
  }

  // The drawing changed: `onInk` on the next frame (one call for many pointer moves).
  changed() {
    if (this.pending !== null) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = null;
      this.onInk();
    });
  }

  // Forgets a drawing's prediction not made yet.
  cancel() {
    if (this.pending !== null) cancelAnimationFrame(this.pending);
    this.pending = null;
  }

  clear() {
    this.cancel();
    const ctx = this.ctx;
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.lineWidth = 18;
    ctx.lineCap = "round";
    ctx.lineJoin = "round";
    ctx.strokeStyle = "#000";
    ctx.fillStyle = "#000";
  }

  // The canvas as RGBA bytes; its alpha channel is the ink.
  rgba() {
    return this.ctx.getImageData(0, 0, this.canvas.width, this.canvas.height).data;
  }

  // A 28x28 image (`ink(i)`: pixel i's ink, 0-255) drawn 10x larger on the pad.
  showDigit(ink) {
    this.clear();
    const image = this.ctx.createImageData(280, 280);
    for (let y = 0; y < 280; y++) {
      for (let x = 0; x < 280; x++) {
        image.data.set([0, 0, 0, ink(Math.floor(y / 10) * 28 + Math.floor(x / 10))], 4 * (y * 280 + x));
      }
    }
    this.ctx.putImageData(image, 0, 0);
  }
}
