// Job logs as HTML: ANSI colours (SGR) become <span class="..."> elements, GitLab's section
// markers (section_start / section_end) become collapsible sections, everything else is
// escaped text. Streaming: feed() takes decoded text in any pieces and returns operations for
// the complete lines; pending() renders the line still being written. No DOM access here, so
// the dashboard's log viewer decides how and when to apply the operations.
'use strict';

(function (global) {
  const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
  function escapeHtml(text) {
    return text.replace(/[&<>"']/g, (c) => ESCAPES[c]);
  }

  // CSI sequences (ESC [ params final) and the other escapes a terminal log may hold.
  const ESCAPE_RE = /\x1b\[([0-9;?]*)([@-~])|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[^[]/g;
  const SECTION_RE = /^section_(start|end):(\d+):([A-Za-z0-9_.-]+)(\[[^\]]*\])?\r?(.*)$/s;

  class SgrState {
    constructor() { this.reset(); }
    reset() {
      this.fg = -1; this.bg = -1; this.bold = false; this.faint = false;
      this.italic = false; this.underline = false; this.inverse = false;
    }
    apply(params) {
      const codes = params === '' ? [0] : params.split(';').map((p) => (p === '' ? 0 : +p));
      for (let i = 0; i < codes.length; i++) {
        const c = codes[i];
        if (c === 0) this.reset();
        else if (c === 1) this.bold = true;
        else if (c === 2) this.faint = true;
        else if (c === 3) this.italic = true;
        else if (c === 4) this.underline = true;
        else if (c === 7) this.inverse = true;
        else if (c === 22) { this.bold = false; this.faint = false; }
        else if (c === 23) this.italic = false;
        else if (c === 24) this.underline = false;
        else if (c === 27) this.inverse = false;
        else if (c >= 30 && c <= 37) this.fg = c - 30;
        else if (c === 39) this.fg = -1;
        else if (c >= 40 && c <= 47) this.bg = c - 40;
        else if (c === 49) this.bg = -1;
        else if (c >= 90 && c <= 97) this.fg = c - 90 + 8;
        else if (c >= 100 && c <= 107) this.bg = c - 100 + 8;
        else if (c === 38 || c === 48) {
          // 38;5;n (xterm's 256 colours) or 38;2;r;g;b (truecolour, as class "x" + 6 hex
          // digits). Classes, not style attributes: the page's CSP allows no inline styles;
          // the viewer adds a rule for each class beyond the 16 of app.css (classRule below).
          let colour = null;
          if (codes[i + 1] === 5) {
            const n = codes[i + 2];
            if (Number.isInteger(n) && n >= 0 && n < 256) colour = n;
            i += 2;
          } else if (codes[i + 1] === 2) {
            const rgb = codes.slice(i + 2, i + 5);
            if (rgb.length === 3 && rgb.every((v) => Number.isInteger(v) && v >= 0 && v < 256)) {
              colour = 'x' + rgb.map((v) => v.toString(16).padStart(2, '0')).join('');
            }
            i += 4;
          }
          if (colour !== null) { if (c === 38) this.fg = colour; else this.bg = colour; }
        }
      }
    }
    classes() {
      const out = [];
      let fg = this.fg;
      let bg = this.bg;
      if (this.inverse) { const t = fg; fg = bg < 0 ? 'inv' : bg; bg = t < 0 ? 'inv' : t; }
      if (fg !== -1) out.push('fg-' + fg);
      if (bg !== -1) out.push('bg-' + bg);
      if (this.bold) out.push('b');
      if (this.faint) out.push('f');
      if (this.italic) out.push('i');
      if (this.underline) out.push('u');
      return out.join(' ');
    }
  }

  // xterm's 256-colour palette beyond the first 16: a 6x6x6 cube, then 24 greys.
  function paletteHex(n) {
    const hex = (v) => v.toString(16).padStart(2, '0');
    if (n >= 232) { const g = 8 + 10 * (n - 232); return hex(g) + hex(g) + hex(g); }
    const level = (v) => (v === 0 ? 0 : 55 + 40 * v);
    const i = n - 16;
    return hex(level(Math.floor(i / 36))) + hex(level(Math.floor(i / 6) % 6)) + hex(level(i % 6));
  }

  // The CSS declaration behind a colour class that app.css does not have ("fg-196",
  // "bg-x0a0b0c"), or null for the 16 palette classes and anything else.
  function classRule(cls) {
    const m = /^(fg|bg)-(?:(\d+)|x([0-9a-f]{6}))$/.exec(cls);
    if (!m) return null;
    let hex = m[3];
    if (hex === undefined) {
      const n = +m[2];
      if (n < 16 || n > 255) return null;
      hex = paletteHex(n);
    }
    return (m[1] === 'fg' ? 'color: #' : 'background: #') + hex + ';';
  }

  class LogRenderer {
    constructor() {
      this.state = new SgrState();
      this.buffer = '';
      this.lineNo = 0;
      this.classesSeen = new Set();
      this.newClasses = [];
    }

    // Colour classes used for the first time since the last call that need a rule of their own
    // ({cls, rule}); the viewer adds them to its style sheet.
    takeNewClasses() {
      const out = this.newClasses;
      this.newClasses = [];
      return out;
    }

    // Text of one line (without its newline) as HTML. Carriage returns overwrite: only what
    // follows the last one shows (progress bars), though colours set before it still count.
    renderLine(line) {
      const segments = line.split('\r');
      let last = segments.length - 1;
      while (last > 0 && segments[last] === '') last--;
      let html = '';
      for (let s = 0; s <= last; s++) {
        html = '';
        const seg = segments[s];
        let pos = 0;
        let m;
        ESCAPE_RE.lastIndex = 0;
        while ((m = ESCAPE_RE.exec(seg)) !== null) {
          if (m.index > pos) html += this.span(seg.slice(pos, m.index));
          if (m[2] === 'm') this.state.apply(m[1]);
          pos = ESCAPE_RE.lastIndex;
        }
        if (pos < seg.length) html += this.span(seg.slice(pos));
      }
      return html;
    }

    span(text) {
      // Other control characters (not tab) show as nothing, as a terminal would.
      const clean = text.replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '');
      if (clean === '') return '';
      const cls = this.state.classes();
      if (cls && /(fg|bg)-(\d\d\d?|x)/.test(cls)) {
        for (const c of cls.split(' ')) {
          if (this.classesSeen.has(c)) continue;
          this.classesSeen.add(c);
          const rule = classRule(c);
          if (rule) this.newClasses.push({ cls: c, rule });
        }
      }
      const esc = escapeHtml(clean);
      return cls ? '<span class="' + cls + '">' + esc + '</span>' : esc;
    }

    // One complete line as an operation: {kind: 'line', no, html}, or a section marker
    // {kind: 'start', name, time, collapsed, html} / {kind: 'end', name, time}.
    lineOp(line) {
      // GitLab writes "\e[0Ksection_start:TIME:NAME[opts]\r\e[0KHeader" and
      // "\e[0Ksection_end:TIME:NAME\r\e[0K".
      const plain = line.replace(/^(\x1b\[0?K)+/, '');
      const m = SECTION_RE.exec(plain);
      if (m) {
        const rest = m[5].replace(/^(\x1b\[0?K)+/, '');
        const time = +m[2];
        if (m[1] === 'start') {
          this.lineNo++;
          return {
            kind: 'start', no: this.lineNo, name: m[3], time,
            collapsed: /collapsed=true/.test(m[4] || ''),
            html: this.renderLine(rest) || escapeHtml(m[3]),
          };
        }
        const op = { kind: 'end', name: m[3], time };
        if (rest !== '') {
          this.lineNo++;
          return [op, { kind: 'line', no: this.lineNo, html: this.renderLine(rest) }];
        }
        return op;
      }
      this.lineNo++;
      return { kind: 'line', no: this.lineNo, html: this.renderLine(line) };
    }

    // Takes the next piece of the log; returns the operations for the lines it completed.
    feed(text) {
      this.buffer += text;
      const ops = [];
      let start = 0;
      let nl;
      while ((nl = this.buffer.indexOf('\n', start)) !== -1) {
        let line = this.buffer.slice(start, nl);
        if (line.endsWith('\r')) line = line.slice(0, -1);
        const op = this.lineOp(line);
        if (Array.isArray(op)) ops.push(...op); else ops.push(op);
        start = nl + 1;
      }
      this.buffer = this.buffer.slice(start);
      return ops;
    }

    // The unfinished last line as HTML (rendered on a copy of the state), or ''.
    pending() {
      if (this.buffer === '') return '';
      const saved = Object.assign(new SgrState(), this.state);
      // An escape sequence cut at the end of the piece shows once it is whole.
      const html = this.renderLine(this.buffer.replace(/\x1b(\[[0-9;?]*)?$/, ''));
      this.state = saved;
      return html;
    }

    // Ends the log: the unfinished line becomes a line.
    finish() {
      if (this.buffer === '') return [];
      const op = this.lineOp(this.buffer);
      this.buffer = '';
      return Array.isArray(op) ? op : [op];
    }
  }

  // The whole text at once as HTML lines (for tests and small logs).
  function renderAll(text) {
    const r = new LogRenderer();
    const ops = r.feed(text).concat(r.finish());
    return ops.filter((o) => o.kind !== 'end').map((o) => o.html);
  }

  global.GantryAnsi = { LogRenderer, SgrState, escapeHtml, renderAll, classRule };
})(typeof window !== 'undefined' ? window : globalThis);
