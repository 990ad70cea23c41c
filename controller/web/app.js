// The Gantry dashboard: one page, routed by the URL's #fragment, over the controller's JSON API
// (docs/api.md) with the admin token the user signs in with (kept in sessionStorage, sent as
// "Authorization: Bearer"). Pages: pipelines, projects, a pipeline's stages and jobs, a job
// with its live log. Every piece of data becomes text nodes, or escaped HTML from ansi.js.
'use strict';

(function () {
  const TOKEN_KEY = 'gantry.token';
  const FINISHED = new Set(['success', 'failed', 'canceled', 'skipped']);
  const main = document.getElementById('main');
  let pageTimers = [];
  let pageAbort = null;

  // ---- helpers --------------------------------------------------------------------------------

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function badge(status, extra) {
    return h('span', { class: 'badge s-' + status + (extra ? ' ' + extra : ''), 'data-status': status },
      status);
  }

  function seconds(a, b) {
    if (!a) return null;
    const end = b ? Date.parse(b) : Date.now();
    return Math.max(0, (end - Date.parse(a)) / 1000);
  }

  function duration(s) {
    if (s === null || s === undefined) return '—';
    s = Math.round(s);
    if (s < 60) return s + 's';
    const m = Math.floor(s / 60);
    if (m < 60) return m + 'm ' + String(s % 60).padStart(2, '0') + 's';
    return Math.floor(m / 60) + 'h ' + String(m % 60).padStart(2, '0') + 'm';
  }

  function ago(iso) {
    if (!iso) return '—';
    const s = (Date.now() - Date.parse(iso)) / 1000;
    let text;
    if (s < 60) text = 'just now';
    else if (s < 3600) text = Math.floor(s / 60) + ' min ago';
    else if (s < 86400) text = Math.floor(s / 3600) + ' h ago';
    else text = new Date(iso).toISOString().slice(0, 10);
    return h('span', { title: iso }, text);
  }

  function every(ms, fn) {
    const id = setInterval(fn, ms);
    pageTimers.push(id);
  }

  // ---- API --------------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }

  function token() { return sessionStorage.getItem(TOKEN_KEY) || ''; }

  function authHeaders(t) { return { Authorization: 'Bearer ' + (t === undefined ? token() : t) }; }

  async function api(method, path, body, t) {
    const init = { method, headers: authHeaders(t), signal: pageAbort ? pageAbort.signal : undefined };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const r = await fetch(path, init);
    let data = null;
    const text = await r.text();
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = { error: text }; }
    }
    if (r.status === 401 && t === undefined) {
      signOut('The controller refused the token (signed out). Sign in again.');
      throw new ApiError(401, 'unauthorized');
    }
    if (!r.ok) throw new ApiError(r.status, (data && data.error) || r.status + ' ' + r.statusText);
    return data;
  }

  // Runs an action button's call; shows its error next to the page's title.
  async function act(method, path, after) {
    try {
      await api(method, path);
      after();
    } catch (e) {
      showError(e);
    }
  }

  function showError(e) {
    if (e.name === 'AbortError' || (e instanceof ApiError && e.status === 401)) return;
    const el = document.getElementById('page-error');
    if (el) el.textContent = e.message;
  }

  // ---- sign in ----------------------------------------------------------------------------------

  let signInMessage = '';

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    signInMessage = message || '';
    location.hash = '#/login';
    route();
  }

  function loginPage() {
    document.getElementById('nav').hidden = true;
    const input = h('input', { id: 'token', type: 'password', autocomplete: 'off',
      placeholder: 'gantry-admin-…', 'aria-label': 'Admin token' });
    const error = h('div', { id: 'login-error', class: 'error', role: 'alert' }, signInMessage);
    signInMessage = '';
    const form = h('form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        error.textContent = '';
        const t = input.value.trim();
        if (!t) { error.textContent = 'Enter the admin token.'; return; }
        try {
          await api('GET', '/api/v1/projects', undefined, t);
          sessionStorage.setItem(TOKEN_KEY, t);
          location.hash = '#/';
        } catch (e) {
          error.textContent = e.status === 401
            ? 'The controller refused this token: use the admin token (admin.token in its data directory).'
            : 'Could not reach the controller: ' + e.message;
        }
      },
    },
    h('h1', {}, 'Sign in to Gantry'),
    h('p', { class: 'muted' }, 'The admin token was printed on the controller\'s first start and is kept in ',
      h('code', {}, 'admin.token'), ' in its data directory.'),
    input, error,
    h('button', { id: 'signin', type: 'submit', class: 'primary' }, 'Sign in'));
    return h('div', { class: 'login' }, form);
  }

  // ---- pipelines list ---------------------------------------------------------------------------

  function pipelineRows(pipelines, withProject) {
    if (!pipelines.length) {
      return [h('tr', {}, h('td', { colspan: 8, class: 'muted' }, 'No pipelines yet.'))];
    }
    return pipelines.map((p) => h('tr', { 'data-pipeline': p.id },
      h('td', {}, h('a', { href: '#/pipelines/' + p.id }, '#' + p.id)),
      h('td', {}, badge(p.status)),
      withProject ? h('td', {}, h('a', { href: '#/projects/' + encodeURIComponent(p.project) }, p.project)) : null,
      h('td', {}, p.tag ? '🏷 ' + p.ref : p.ref),
      h('td', { class: 'mono' }, (p.sha || '').slice(0, 8)),
      h('td', {}, p.source),
      h('td', {}, ago(p.created_at)),
      h('td', {}, duration(seconds(p.started_at, p.finished_at)))));
  }

  function pipelinesTable(project) {
    const body = h('tbody');
    const table = h('table', { id: 'pipelines' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Pipeline'), h('th', {}, 'Status'),
        project ? null : h('th', {}, 'Project'), h('th', {}, 'Ref'), h('th', {}, 'Commit'),
        h('th', {}, 'Source'), h('th', {}, 'Created'), h('th', {}, 'Duration'))),
      body);
    const load = async () => {
      try {
        const q = project ? '?limit=50&project=' + encodeURIComponent(project) : '?limit=50';
        const data = await api('GET', '/api/v1/pipelines' + q);
        body.replaceChildren(...pipelineRows(data.pipelines || [], !project));
      } catch (e) { showError(e); }
    };
    load();
    every(5000, load);
    return { table, load };
  }

  function pipelinesPage() {
    const { table } = pipelinesTable(null);
    return h('div', {}, h('h1', {}, 'Pipelines'), h('div', { id: 'page-error', class: 'error' }), table);
  }

  // ---- projects ---------------------------------------------------------------------------------

  function projectsPage() {
    const list = h('div', { class: 'cards', id: 'projects' }, h('p', { class: 'muted' }, 'Loading…'));
    (async () => {
      try {
        const data = await api('GET', '/api/v1/projects');
        const projects = data.projects || [];
        if (!projects.length) {
          list.replaceChildren(h('p', { class: 'muted' },
            'No projects yet: gantry project create NAME --repo URL'));
          return;
        }
        list.replaceChildren(...projects.map((p) => h('div', { class: 'card' },
          h('h2', {}, h('a', { href: '#/projects/' + encodeURIComponent(p.name) }, p.name)),
          h('div', { class: 'mono muted' }, p.repo_url),
          h('div', {}, 'default branch ', h('code', {}, p.default_branch)))));
      } catch (e) { showError(e); }
    })();
    return h('div', {}, h('h1', {}, 'Projects'), h('div', { id: 'page-error', class: 'error' }), list);
  }

  function projectPage(name) {
    const facts = h('dl', { class: 'facts' });
    const { table, load } = pipelinesTable(name);
    const ref = h('input', { id: 'run-ref', placeholder: 'branch or tag (default branch)' });
    const run = h('form', {
      class: 'toolbar',
      onsubmit: async (ev) => {
        ev.preventDefault();
        const body = { project: name };
        if (ref.value.trim()) body.ref = ref.value.trim();
        try {
          const p = await api('POST', '/api/v1/pipelines', body);
          location.hash = '#/pipelines/' + p.id;
        } catch (e) { showError(e); load(); }
      },
    }, ref, h('button', { type: 'submit', class: 'primary' }, 'Run pipeline'));
    (async () => {
      try {
        const p = await api('GET', '/api/v1/projects/' + encodeURIComponent(name));
        const vars = p.variables.map((v) => v.key + (v.masked ? ' (masked)' : '')).join(', ');
        facts.replaceChildren(
          h('dt', {}, 'Repository'), h('dd', { class: 'mono' }, p.repo_url),
          h('dt', {}, 'Default branch'), h('dd', {}, p.default_branch),
          h('dt', {}, 'Variables'), h('dd', {}, vars || '—'),
          h('dt', {}, 'Push webhook'), h('dd', { class: 'mono' },
            location.origin + p.webhook_path, p.webhook_secret_set ? '' : ' (no secret set)'));
      } catch (e) { showError(e); }
    })();
    return h('div', {}, h('h1', {}, 'Project ', name), h('div', { id: 'page-error', class: 'error' }),
      facts, run, h('h2', {}, 'Pipelines'), table);
  }

  // ---- a pipeline -------------------------------------------------------------------------------

  function jobActions(j, refresh) {
    const buttons = [];
    if (j.status === 'manual' || j.status === 'scheduled') {
      buttons.push(h('button', { class: 'play', onclick: () => act('POST', '/api/v1/jobs/' + j.id + '/play', refresh) }, j.status === 'scheduled' ? 'Start now' : 'Play'));
    }
    if (j.status === 'scheduled') {
      buttons.push(h('button', { class: 'unschedule', onclick: () => act('POST', '/api/v1/jobs/' + j.id + '/unschedule', refresh) }, 'Unschedule'));
    }
    if (['created', 'pending', 'running', 'manual', 'scheduled'].includes(j.status)) {
      buttons.push(h('button', { class: 'cancel', onclick: () => act('POST', '/api/v1/jobs/' + j.id + '/cancel', refresh) }, 'Cancel'));
    }
    if (['success', 'failed', 'canceled'].includes(j.status)) {
      buttons.push(h('button', { class: 'retry', onclick: () => act('POST', '/api/v1/jobs/' + j.id + '/retry', refresh) }, 'Retry'));
    }
    return buttons;
  }

  function jobDuration(j) {
    return j.duration_seconds !== null && j.duration_seconds !== undefined
      ? j.duration_seconds : seconds(j.started_at, j.finished_at);
  }

  function pipelinePage(id) {
    const head = h('div');
    const stages = h('div', { class: 'stages', id: 'stages' });
    const diagnostics = h('pre', { class: 'error mono', id: 'diagnostics' });
    let finished = false;
    const load = async () => {
      try {
        const p = await api('GET', '/api/v1/pipelines/' + id);
        finished = FINISHED.has(p.status);
        const actions = [];
        if (!finished) {
          actions.push(h('button', { id: 'pipeline-cancel', onclick: () => act('POST', '/api/v1/pipelines/' + id + '/cancel', load) }, 'Cancel pipeline'));
        }
        if (p.status === 'failed' || p.status === 'canceled') {
          actions.push(h('button', { id: 'pipeline-retry', onclick: () => act('POST', '/api/v1/pipelines/' + id + '/retry', load) }, 'Retry failed jobs'));
        }
        head.replaceChildren(
          h('h1', {}, 'Pipeline #' + p.id + ' ', badge(p.status)),
          h('div', { class: 'muted' },
            h('a', { href: '#/projects/' + encodeURIComponent(p.project) }, p.project), ' · ',
            p.tag ? 'tag ' : 'branch ', h('code', {}, p.ref), ' · ', h('code', {}, (p.sha || '').slice(0, 12)),
            ' · ', p.source, ' · created ', ago(p.created_at), ' · duration ',
            duration(seconds(p.started_at, p.finished_at)),
            p.failure_reason ? ' · ' + p.failure_reason : ''),
          h('div', { class: 'toolbar' }, actions));
        diagnostics.textContent = (p.diagnostics || []).join('\n');
        const byStage = new Map((p.stages || []).map((s) => [s, []]));
        for (const j of p.jobs || []) {
          if (!byStage.has(j.stage)) byStage.set(j.stage, []);
          byStage.get(j.stage).push(j);
        }
        stages.replaceChildren(...[...byStage].filter(([, jobs]) => jobs.length).map(([stage, jobs]) =>
          h('section', { class: 'stage', 'data-stage': stage }, h('h3', {}, stage),
            jobs.map((j) => h('div', { class: 'job', 'data-job': j.id },
              h('div', {}, h('a', { class: 'name', href: '#/jobs/' + j.id }, j.name), ' ',
                badge(j.status, j.status === 'failed' && j.allow_failure ? 'allowed' : '')),
              h('div', { class: 'meta' }, duration(jobDuration(j)),
                j.failure_reason ? ' · ' + j.failure_reason : '',
                j.status === 'failed' && j.allow_failure ? ' · allowed to fail' : '',
                j.attempt > 1 ? ' · attempt ' + j.attempt : ''),
              h('div', { class: 'actions' }, jobActions(j, load)))))));
      } catch (e) { showError(e); }
    };
    load();
    every(3000, () => { if (!finished) load(); });
    return h('div', {}, head, h('div', { id: 'page-error', class: 'error' }), diagnostics, stages);
  }

  // ---- a job and its live log -------------------------------------------------------------------

  // Follows one attempt's log through the API's live stream: GET …/log?offset=N&wait=S held by
  // the controller until bytes arrive, each response body read as a stream, repeated from
  // X-Log-Next-Offset until X-Log-Complete. Text is rendered in batches between which the page
  // stays responsive, however large the log.
  // Rules for the log colour classes app.css does not have (xterm's 256 colours, truecolour),
  // added as the logs use them: a constructed style sheet, which the page's CSP allows (it
  // forbids style attributes and inline <style>).
  const colourSheet = new CSSStyleSheet();
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, colourSheet];
  function addColourRules(list) {
    for (const { cls, rule } of list) colourSheet.insertRule('#log .' + cls + ' { ' + rule + ' }');
  }

  // Logs larger than this show their tail first (as GitLab's job page does); the whole log is a
  // click away.
  const LOG_TAIL_BYTES = 4 * 1024 * 1024;

  function sizeText(n) {
    if (n < 1024) return n + ' B';
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KiB';
    return (n / 1024 / 1024).toFixed(1) + ' MiB';
  }

  class LogViewer {
    // startOffset > 0: the log is read from there, and its first (partial) line is dropped.
    constructor(el, jobId, attempt, startOffset = 0) {
      this.el = el;
      this.jobId = jobId;
      this.attempt = attempt;
      this.startOffset = startOffset;
      this.skipPartialLine = startOffset > 0;
      this.renderer = new window.GantryAnsi.LogRenderer();
      this.decoder = new TextDecoder('utf-8');
      this.queue = [];
      this.queued = 0;
      this.scheduled = false;
      this.stack = [{ body: el, name: null }];
      this.pendingEl = h('div', { class: 'line pending' });
      this.stick = true;
      this.bytes = 0;
      this.done = null;
      el.addEventListener('scroll', () => {
        this.stick = el.scrollHeight - el.scrollTop - el.clientHeight < 8;
        this.onstick && this.onstick(this.stick);
      });
    }

    scrollToEnd() { this.el.scrollTop = this.el.scrollHeight; this.stick = true; }

    push(text) {
      if (this.skipPartialLine && text) {
        const nl = text.indexOf('\n');
        if (nl === -1) return;
        this.skipPartialLine = false;
        text = text.slice(nl + 1);
      }
      if (!text) return;
      this.queue.push(text);
      this.queued += text.length;
      this.schedule();
    }

    schedule() {
      if (this.scheduled) return;
      this.scheduled = true;
      setTimeout(() => { this.scheduled = false; this.drain(); }, 0);
    }

    // At most ~256 KiB of text per turn of the event loop, then the browser gets to paint.
    drain() {
      if (this.signal && this.signal.aborted) return;
      let budget = 256 * 1024;
      let ops = [];
      while (this.queue.length && budget > 0) {
        let text = this.queue.shift();
        if (text.length > budget) {
          this.queue.unshift(text.slice(budget));
          text = text.slice(0, budget);
        }
        budget -= text.length;
        this.queued -= text.length;
        ops = ops.concat(this.renderer.feed(text));
      }
      if (!this.queue.length && this.finishing) ops = ops.concat(this.renderer.finish());
      this.apply(ops);
      if (this.queue.length) this.schedule();
      else if (this.finishing && this.finishing !== true) { const f = this.finishing; this.finishing = true; f(); }
    }

    apply(ops) {
      this.pendingEl.remove();
      let html = '';
      let target = this.stack[this.stack.length - 1].body;
      const flush = () => {
        if (html) { target.insertAdjacentHTML('beforeend', html); html = ''; }
      };
      for (const op of ops) {
        if (op.kind === 'line') {
          html += '<div class="line" data-n="' + op.no + '">' + op.html + '</div>';
        } else if (op.kind === 'start') {
          flush();
          const head = h('div', { class: 'line sec-head', 'data-n': op.no });
          head.innerHTML = op.html;  // escaped by ansi.js
          const time = h('span', { class: 'sec-time' });
          head.prepend(time);
          const body = h('div', { class: 'sec-body' });
          const sec = h('div', { class: 'sec' + (op.collapsed ? ' collapsed' : ''), 'data-section': op.name }, head, body);
          head.addEventListener('click', () => sec.classList.toggle('collapsed'));
          target.append(sec);
          this.stack.push({ body, name: op.name, time: op.time, timeEl: time });
          target = body;
        } else if (op.kind === 'end') {
          flush();
          const at = this.stack.findIndex((s, i) => i > 0 && s.name === op.name);
          if (at > 0) {
            const s = this.stack[at];
            s.timeEl.textContent = duration(op.time - s.time);
            this.stack.length = at;
            target = this.stack[this.stack.length - 1].body;
          }
        }
      }
      flush();
      const pending = this.renderer.pending();
      if (pending) {
        this.pendingEl.innerHTML = pending;  // escaped by ansi.js
        target.append(this.pendingEl);
      }
      addColourRules(this.renderer.takeNewClasses());
      if (this.stick) this.scrollToEnd();
    }

    // Reads until the attempt's log is complete; resolves true then, false when stopped.
    async follow(signal) {
      this.signal = signal;
      let offset = this.startOffset;
      let failures = 0;
      for (;;) {
        let url = '/api/v1/jobs/' + this.jobId + '/log?wait=25&offset=' + offset;
        if (this.attempt) url += '&attempt=' + this.attempt;
        let r;
        try {
          r = await fetch(url, { headers: authHeaders(), signal });
          if (r.status === 401) { signOut('The controller refused the token (signed out).'); return false; }
          if (!r.ok) throw new Error('log: ' + r.status + ' ' + (await r.text()));
          const reader = r.body.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            this.bytes += value.length;
            this.push(this.decoder.decode(value, { stream: true }));
          }
          failures = 0;
        } catch (e) {
          if (signal.aborted) return false;
          // The controller restarting, or the network: try again, a bit later each time.
          failures++;
          if (this.onerror) this.onerror(e);
          await new Promise((res) => setTimeout(res, Math.min(10000, 500 * 2 ** failures)));
          continue;
        }
        offset = Number(r.headers.get('X-Log-Next-Offset') || offset);
        if (r.headers.get('X-Log-Complete') === 'true') break;
      }
      this.push(this.decoder.decode());
      await new Promise((res) => { this.finishing = res; this.schedule(); });
      return true;
    }
  }

  function jobPage(id) {
    const head = h('div');
    const status = h('div', { id: 'log-status', class: 'muted' }, 'Loading the log…');
    const logEl = h('div', { id: 'log', tabindex: 0, 'aria-label': 'Job log' });
    const follow = h('button', { id: 'follow', type: 'button' }, '↓ Follow');
    let job = null;
    let viewer = null;

    const renderHead = (j) => {
      head.replaceChildren(
        h('h1', {}, 'Job ', h('span', { id: 'job-name' }, j.name), ' ',
          h('span', { id: 'job-status' }, badge(j.status, j.status === 'failed' && j.allow_failure ? 'allowed' : ''))),
        h('div', { class: 'muted' },
          h('a', { href: '#/pipelines/' + j.pipeline_id }, 'Pipeline #' + j.pipeline_id), ' · ',
          h('a', { href: '#/projects/' + encodeURIComponent(j.project) }, j.project), ' · stage ', j.stage,
          ' · attempt ', j.attempt, j.agent ? ' · agent ' + j.agent.name : '',
          ' · duration ', duration(jobDuration(j)),
          j.failure_reason ? h('span', { id: 'failure-reason' }, ' · ' + j.failure_reason) : '',
          j.exit_code !== null && j.exit_code !== undefined ? ' · exit code ' + j.exit_code : ''),
        h('div', { class: 'toolbar' }, jobActions(j, refresh)));
    };

    const finished = () => job && FINISHED.has(job.status);

    async function refresh() {
      try {
        const j = await api('GET', '/api/v1/jobs/' + id);
        const restarted = job && j.attempt !== job.attempt;
        job = j;
        renderHead(j);
        if (!viewer || restarted) startLog();
      } catch (e) { showError(e); }
    }

    let viewerAbort = null;
    const notice = h('div', { id: 'log-notice', class: 'muted', hidden: true });
    function startLog(whole = false) {
      // One follower at a time: the one of an earlier attempt stops writing into the page.
      if (viewerAbort) viewerAbort.abort();
      const abort = new AbortController();
      viewerAbort = abort;
      pageAbort.signal.addEventListener('abort', () => abort.abort());
      logEl.replaceChildren();
      const attempt = job.attempt;
      const size = job.log_size || 0;
      const start = !whole && size > LOG_TAIL_BYTES ? size - LOG_TAIL_BYTES : 0;
      // The tail's line numbers are not known: the partial view shows none.
      logEl.classList.toggle('partial', start > 0);
      notice.hidden = start === 0;
      if (start > 0) {
        notice.replaceChildren('This log is ' + sizeText(size) + ': showing its last ' +
          sizeText(LOG_TAIL_BYTES) + '. ',
          h('button', { type: 'button', id: 'log-whole', class: 'link', onclick: () => startLog(true) },
            'Show the whole log'));
      }
      viewer = new LogViewer(logEl, id, attempt, start);
      viewer.onstick = (s) => follow.classList.toggle('show', !s);
      viewer.onerror = (e) => { status.textContent = 'Reconnecting to the log stream… (' + e.message + ')'; };
      status.textContent = finished() ? 'Loading the log…' : 'Following the live log…';
      status.removeAttribute('data-final');
      const mine = viewer;
      mine.follow(abort.signal).then(async (complete) => {
        if (!complete || viewer !== mine) return;
        // The attempt's log is complete: show how the job ended.
        let j = job;
        try { j = await api('GET', '/api/v1/jobs/' + id); } catch (e) { showError(e); }
        if (viewer !== mine) return;
        if (j.attempt !== attempt) { job = j; renderHead(j); startLog(); return; }
        job = j;
        renderHead(j);
        if (FINISHED.has(j.status)) {
          status.replaceChildren('Job finished: ', badge(j.status),
            j.failure_reason ? ' (' + j.failure_reason + ')' : '',
            ' · ' + (mine.startOffset ? 'its last ' : '') + mine.renderer.lineNo + ' lines');
          status.setAttribute('data-final', j.status);
        } else {
          // Not started yet (no attempt) or requeued: the job poll below notices the next one.
          status.textContent = 'Waiting for the job to start (' + j.status + ')…';
        }
      });
    }

    follow.addEventListener('click', () => { viewer && viewer.scrollToEnd(); follow.classList.remove('show'); });
    refresh();
    every(3000, () => { if (!finished() || (viewer && !status.hasAttribute('data-final'))) refresh(); });
    return h('div', {}, head, h('div', { id: 'page-error', class: 'error' }),
      status, notice, h('div', { class: 'logwrap' }, logEl, follow));
  }

  // ---- routing ----------------------------------------------------------------------------------

  function route() {
    for (const t of pageTimers) clearInterval(t);
    pageTimers = [];
    if (pageAbort) pageAbort.abort();
    pageAbort = new AbortController();
    const path = location.hash.replace(/^#/, '') || '/';
    let page;
    if (!token() || path === '/login') {
      if (token() && path === '/login') { location.hash = '#/'; return; }
      page = loginPage();
    } else {
      document.getElementById('nav').hidden = false;
      let m;
      if ((m = path.match(/^\/pipelines\/(\d+)$/))) page = pipelinePage(m[1]);
      else if ((m = path.match(/^\/jobs\/(\d+)$/))) page = jobPage(m[1]);
      else if ((m = path.match(/^\/projects\/([^/]+)$/))) page = projectPage(decodeURIComponent(m[1]));
      else if (path === '/projects') page = projectsPage();
      else page = pipelinesPage();
    }
    main.replaceChildren(page);
  }

  document.getElementById('signout').addEventListener('click', () => signOut(''));
  window.addEventListener('hashchange', route);
  route();
})();
