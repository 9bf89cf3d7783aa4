// commentguard moderator console. Vanilla JS, no build step, served from the binary.
//
// Rules this file keeps:
// - Comment bodies, names, notes and every other server value are hostile text: they reach the page through
//   textContent (el(), text()) only, never as markup.
// - The moderator token lives in this tab's sessionStorage and in memory; it is sent as an Authorization header and
//   never put in a URL. Logging out forgets it.
// - The claimed batch (items as the server showed them, masked, with their claim tokens) is kept in the same tab's
//   sessionStorage, so reloading the page keeps working it instead of leaving the items locked until their leases
//   expire; it is forgotten on logout, on a site change, and item by item when decided, released or expired.
// - Every failed call is shown (the error banner), with the server's message; RESOURCE_EXHAUSTED and UNAVAILABLE
//   say when to retry.
// - Spans are asked for in UTF-16 code units (OFFSET_ENCODING_UTF16), the unit of JavaScript strings, so
//   body.slice(start, end) is exactly the finding's text.
'use strict';

(function () {
  const TOKEN_KEY = 'commentguard.token';
  const SITE_KEY = 'commentguard.site';
  const WORK_KEY = 'commentguard.work';

  const state = {
    token: null,
    session: null,
    site: null,
    view: 'dashboard',
    work: [], // claimed items: {item, status: 'open' | 'lost'}
    current: -1,
    pages: { pending: '', reported: '' },
    retry: null,
    pendingG: false,
  };

  const $ = (id) => document.getElementById(id);

  /** An element with text content (never markup) and optional class. */
  function el(tag, textValue, className) {
    const e = document.createElement(tag);
    if (textValue !== undefined && textValue !== null) e.textContent = String(textValue);
    if (className) e.className = className;
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // ---------------------------------------------------------------- errors

  class ApiError extends Error {
    constructor(http, status, retryAfter) {
      super(status.message || ('HTTP ' + http));
      this.http = http;
      this.code = status.code || 0;
      this.details = status.details || [];
      this.retryAfter = retryAfter;
    }
    get codeName() {
      return CODE_NAMES[this.code] || ('code ' + this.code);
    }
  }

  const CODE_NAMES = {
    1: 'CANCELLED', 2: 'UNKNOWN', 3: 'INVALID_ARGUMENT', 4: 'DEADLINE_EXCEEDED', 5: 'NOT_FOUND',
    6: 'ALREADY_EXISTS', 7: 'PERMISSION_DENIED', 8: 'RESOURCE_EXHAUSTED', 9: 'FAILED_PRECONDITION', 10: 'ABORTED',
    11: 'OUT_OF_RANGE', 12: 'UNIMPLEMENTED', 13: 'INTERNAL', 14: 'UNAVAILABLE', 15: 'DATA_LOSS', 16: 'UNAUTHENTICATED',
  };

  /** Seconds to wait before retrying: the RetryInfo detail, else Retry-After. */
  function retrySeconds(err) {
    for (const d of err.details) {
      if (typeof d['@type'] === 'string' && d['@type'].endsWith('google.rpc.RetryInfo') && d.retryDelay) {
        const s = parseFloat(String(d.retryDelay));
        if (!isNaN(s)) return Math.max(1, Math.ceil(s));
      }
    }
    return err.retryAfter ? Math.max(1, parseInt(err.retryAfter, 10) || 1) : null;
  }

  /** Shows an error; `retry` (a function) is offered as a button once the server's delay has passed. */
  function showError(err, what, retry) {
    const banner = $('error');
    const retryBtn = $('error-retry');
    if (state.retry) clearInterval(state.retry.timer);
    state.retry = null;
    let message = (what ? what + ': ' : '') + (err instanceof ApiError ? err.codeName + ' — ' + err.message : String(err.message || err));
    if (err instanceof ApiError) {
      if (err.code === 9) message += ' (the claim may have expired or been decided; claim again)';
      if (err.code === 16) message += ' (sign in again)';
      if (err.code === 7) message += ' (your token may not act on this site)';
    }
    $('error-text').textContent = message;
    banner.dataset.code = err instanceof ApiError ? err.codeName : 'NETWORK';
    banner.hidden = false;
    retryBtn.hidden = true;
    const wait = err instanceof ApiError ? retrySeconds(err) : null;
    if (retry && (wait !== null || !(err instanceof ApiError))) {
      let left = wait || 0;
      retryBtn.hidden = false;
      const tick = () => {
        retryBtn.disabled = left > 0;
        retryBtn.textContent = left > 0 ? 'Retry in ' + left + ' s' : 'Retry';
        left -= 1;
        if (left < 0 && state.retry) clearInterval(state.retry.timer);
      };
      state.retry = { fn: retry, timer: setInterval(tick, 1000) };
      tick();
    }
    if (err instanceof ApiError && err.code === 16) logout(true);
  }

  function hideError() {
    $('error').hidden = true;
    if (state.retry) clearInterval(state.retry.timer);
    state.retry = null;
  }

  function notice(message) {
    const n = $('notice');
    n.textContent = message;
    n.hidden = false;
    clearTimeout(notice.timer);
    notice.timer = setTimeout(() => { n.hidden = true; }, 4000);
  }

  // ---------------------------------------------------------------- API

  async function api(path, body) {
    const init = {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: 'Bearer ' + state.token },
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(path, init);
    let json = null;
    try {
      json = await res.json();
    } catch (_) {
      json = null;
    }
    if (!res.ok) {
      throw new ApiError(res.status, json || { code: 2, message: 'HTTP ' + res.status }, res.headers.get('Retry-After'));
    }
    return json;
  }

  const rpc = (name, body) => api('/api/review/' + name, Object.assign({ siteId: state.site }, body || {}));

  // ---------------------------------------------------------------- login

  async function login(token) {
    state.token = token;
    try {
      state.session = await api('/api/session');
    } catch (err) {
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
      $('app').hidden = true;
      $('login').hidden = false;
      document.body.dataset.screen = 'login';
      showError(err, 'Sign-in failed');
      return false;
    }
    sessionStorage.setItem(TOKEN_KEY, token);
    hideError();
    $('who').textContent = state.session.moderatorId;
    $('role').textContent = state.session.role;
    const select = $('site');
    clear(select);
    for (const site of state.session.sites) {
      const opt = el('option', site);
      opt.value = site;
      select.appendChild(opt);
    }
    const remembered = sessionStorage.getItem(SITE_KEY);
    state.site = state.session.sites.includes(remembered) ? remembered : state.session.sites[0] || null;
    select.value = state.site || '';
    select.disabled = state.session.sites.length < 2;
    $('login').hidden = true;
    $('app').hidden = false;
    document.body.dataset.screen = 'app';
    const restored = restoreWork();
    if (restored) notice('Restored ' + restored + ' claimed item' + (restored > 1 ? 's' : ''));
    show(restored ? 'work' : 'dashboard');
    return true;
  }

  /** Remembers the open claims of this moderator on this site for a reload of the page (see the rules above). */
  function saveWork() {
    const items = state.work.filter((e) => e.status === 'open' || e.status === 'busy').map((e) => e.item);
    if (!state.session || !items.length) {
      sessionStorage.removeItem(WORK_KEY);
      return;
    }
    sessionStorage.setItem(WORK_KEY, JSON.stringify({ moderator: state.session.moderatorId, site: state.site, items }));
  }

  /** The claims saved before a reload, if they are this moderator's on this site and their leases still run. */
  function restoreWork() {
    let saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(WORK_KEY) || 'null');
    } catch (_) {
      saved = null;
    }
    if (!saved || saved.moderator !== state.session.moderatorId || saved.site !== state.site || !Array.isArray(saved.items)) {
      sessionStorage.removeItem(WORK_KEY);
      return 0;
    }
    const now = Date.now();
    state.work = saved.items.filter((item) => Date.parse(item.leaseExpiresAt) > now).map((item) => ({ item, status: 'open' }));
    state.current = state.work.length ? 0 : -1;
    saveWork();
    return state.work.length;
  }

  function logout(expired) {
    state.token = null;
    state.session = null;
    state.work = [];
    state.current = -1;
    sessionStorage.removeItem(TOKEN_KEY);
    sessionStorage.removeItem(SITE_KEY);
    sessionStorage.removeItem(WORK_KEY);
    $('token').value = '';
    $('app').hidden = true;
    $('login').hidden = false;
    $('help').hidden = true;
    document.body.dataset.screen = 'login';
    renderWork();
    if (!expired) hideError();
    $('token').focus();
  }

  // ---------------------------------------------------------------- views

  function show(view) {
    state.view = view;
    for (const section of document.querySelectorAll('.view')) section.hidden = section.id !== 'view-' + view;
    for (const tab of document.querySelectorAll('.tab')) tab.classList.toggle('active', tab.dataset.view === view);
    document.body.dataset.view = view;
    if (view === 'dashboard') loadStats();
    if (view === 'pending' || view === 'reported') loadQueue(view, false);
    if (view === 'audit') loadAudit();
    if (view === 'work') renderWork();
  }

  function duration(text) {
    if (!text) return '–';
    const s = Math.round(parseFloat(text));
    if (isNaN(s)) return '–';
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.round(s / 60) + ' min';
    if (s < 86400) return (s / 3600).toFixed(1) + ' h';
    return (s / 86400).toFixed(1) + ' d';
  }

  function when(ts) {
    if (!ts) return '';
    const d = new Date(ts);
    return isNaN(d.getTime()) ? String(ts) : d.toLocaleString();
  }

  async function loadStats() {
    if (!state.site) return;
    try {
      const answer = await rpc('GetQueueStats');
      const s = answer.stats || {};
      $('stat-pending').textContent = s.pending || '0';
      $('stat-reported').textContent = s.reported || '0';
      $('stat-claimed').textContent = s.claimed || '0';
      $('stat-oldest').textContent = duration(s.oldestPendingAge);
      $('stat-decided').textContent = s.decidedLastHour || '0';
      $('view-dashboard').dataset.loaded = String(Date.now());
    } catch (err) {
      showError(err, 'Queue stats', loadStats);
    }
  }

  function reasonsOf(item) {
    return (item.findings || []).map((f) => f.code).filter((c, i, all) => all.indexOf(c) === i);
  }

  async function loadQueue(queue, more) {
    if (!state.site) return;
    const body = $('queue-' + queue);
    try {
      const answer = await rpc('ListQueue', {
        queue: queue === 'pending' ? 'QUEUE_PENDING' : 'QUEUE_REPORTED',
        pageSize: 50,
        pageToken: more ? state.pages[queue] : '',
        offsetEncoding: 'OFFSET_ENCODING_UTF16',
      });
      if (!more) clear(body);
      for (const item of answer.items || []) {
        const tr = el('tr');
        tr.dataset.commentId = item.commentId;
        tr.appendChild(el('td', when(item.submittedAt)));
        tr.appendChild(el('td', item.commentId, 'mono'));
        tr.appendChild(el('td', item.threadId, 'mono'));
        tr.appendChild(el('td', (item.author && (item.author.displayName || item.author.accountId)) || 'guest'));
        tr.appendChild(el('td', queue === 'reported'
          ? item.reportCount + ' × ' + (item.reportReasons || []).join(', ')
          : reasonsOf(item).join(', ')));
        const excerpt = item.body.length > 140 ? item.body.slice(0, 140) + '…' : item.body;
        tr.appendChild(el('td', excerpt, 'excerpt'));
        tr.appendChild(el('td', item.claimedBy || ''));
        body.appendChild(tr);
      }
      state.pages[queue] = answer.nextPageToken || '';
      document.querySelector('.more[data-queue="' + queue + '"]').hidden = !state.pages[queue];
      if (!body.firstChild) {
        const tr = el('tr');
        const td = el('td', 'Nothing waiting.', 'hint');
        td.colSpan = 7;
        tr.appendChild(td);
        body.appendChild(tr);
      }
      body.dataset.loaded = String(Date.now());
    } catch (err) {
      showError(err, 'Queue', () => loadQueue(queue, more));
    }
  }

  const ACTION_LABELS = {
    REVIEW_ACTION_APPROVE: 'approved', REVIEW_ACTION_REJECT: 'rejected',
    REVIEW_ACTION_REJECT_SPAM: 'rejected as spam', REVIEW_ACTION_REJECT_ABUSE: 'rejected as abuse',
  };

  async function loadAudit() {
    if (!state.site) return;
    const rows = $('audit-rows');
    try {
      const answer = await rpc('ListAuditLog', { pageSize: 100 });
      clear(rows);
      for (const e of answer.entries || []) {
        const tr = el('tr');
        tr.dataset.commentId = e.commentId;
        tr.appendChild(el('td', when(e.decidedAt)));
        tr.appendChild(el('td', e.moderatorId));
        tr.appendChild(el('td', ACTION_LABELS[e.action] || e.action, 'action'));
        tr.appendChild(el('td', e.commentId, 'mono'));
        tr.appendChild(el('td', (e.reasonCodes || []).join(', ')));
        tr.appendChild(el('td', e.note));
        rows.appendChild(tr);
      }
      if (!rows.firstChild) {
        const tr = el('tr');
        const td = el('td', 'No decisions yet.', 'hint');
        td.colSpan = 6;
        tr.appendChild(td);
        rows.appendChild(tr);
      }
      rows.dataset.loaded = String(Date.now());
    } catch (err) {
      showError(err, 'Audit trail', loadAudit);
    }
  }

  // ---------------------------------------------------------------- claiming and deciding

  async function claim(queue) {
    if (!state.site) return;
    const n = Math.min(50, Math.max(1, parseInt($('batch').value, 10) || 10));
    try {
      const answer = await rpc('ClaimNext', {
        queue: queue === 'reported' ? 'QUEUE_REPORTED' : 'QUEUE_PENDING',
        maxItems: n,
        offsetEncoding: 'OFFSET_ENCODING_UTF16',
      });
      const items = answer.items || [];
      for (const item of items) {
        // An item whose claim we lost (expired lease) may come back to us: the new claim replaces the old entry.
        const known = state.work.findIndex((e) => e.item.reviewId === item.reviewId);
        if (known >= 0) state.work[known] = { item, status: 'open' };
        else state.work.push({ item, status: 'open' });
      }
      const current = state.work[state.current];
      if (!current || current.status !== 'open') state.current = firstOpen(0, 1);
      notice(items.length ? 'Claimed ' + items.length + ' item' + (items.length > 1 ? 's' : '') : 'Nothing to claim in ' + queue);
      hideError();
      if (items.length) show('work');
      else loadStats();
    } catch (err) {
      showError(err, 'Claim', () => claim(queue));
    } finally {
      settled('claims');
    }
  }

  /** Counts finished calls of a kind on <body data-…>, so a test (or a user script) can wait for them. */
  function settled(kind) {
    document.body.dataset[kind] = String((parseInt(document.body.dataset[kind], 10) || 0) + 1);
  }

  function firstOpen(from, step) {
    for (let i = from; i >= 0 && i < state.work.length; i += step) if (state.work[i].status === 'open') return i;
    return -1;
  }

  function move(step) {
    if (!state.work.length) return;
    let i = state.current + step;
    i = Math.max(0, Math.min(state.work.length - 1, i));
    state.current = i;
    renderWork();
  }

  function reasonCodes() {
    return $('reasons').value.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
  }

  async function decide(action) {
    const entry = state.work[state.current];
    if (!entry || entry.status !== 'open') return;
    const item = entry.item;
    const body = {
      reviewId: item.reviewId,
      claimToken: item.claimToken,
      action,
      note: $('note').value,
      reasonCodes: reasonCodes(),
    };
    entry.status = 'busy'; // a second key press while this one is in flight does nothing
    try {
      await rpc('Decide', body);
      done(entry, ACTION_LABELS[action] || action);
    } catch (err) {
      entry.status = 'open';
      if (err instanceof ApiError && (err.code === 9 || err.code === 5)) lose(entry);
      showError(err, 'Decide ' + item.commentId, (err instanceof ApiError && err.code === 9) ? null : () => decide(action));
    } finally {
      settled('decisions');
    }
  }

  async function release() {
    const entry = state.work[state.current];
    if (!entry || entry.status !== 'open') return;
    const item = entry.item;
    entry.status = 'busy';
    try {
      await rpc('ReleaseClaim', { reviewId: item.reviewId, claimToken: item.claimToken });
      done(entry, 'released');
    } catch (err) {
      entry.status = 'open';
      if (err instanceof ApiError && (err.code === 9 || err.code === 5)) lose(entry);
      showError(err, 'Release ' + item.commentId, (err instanceof ApiError && err.code === 9) ? null : release);
    } finally {
      settled('releases');
    }
  }

  /**
   * Gives back every claim still open (leaving the site or logging out), so the items go to the next moderator now
   * rather than when their leases run out. False (and the error shown) if one could not be released.
   */
  async function releaseAll() {
    for (const entry of state.work.filter((e) => e.status === 'open')) {
      try {
        await rpc('ReleaseClaim', { reviewId: entry.item.reviewId, claimToken: entry.item.claimToken });
        entry.status = 'released';
      } catch (err) {
        // Lost or gone already: nothing to give back.
        if (err instanceof ApiError && (err.code === 9 || err.code === 5)) continue;
        showError(err, 'Release ' + entry.item.commentId + ' before leaving');
        return false;
      }
    }
    return true;
  }

  /** The item left this moderator's hands: drop it from the list and go on with the next one. */
  function done(entry, what) {
    const i = state.work.indexOf(entry);
    if (i < 0) return;
    state.work.splice(i, 1);
    if (state.current >= state.work.length) state.current = state.work.length - 1;
    hideError();
    notice(entry.item.commentId + ' ' + what);
    $('note').value = '';
    $('reasons').value = '';
    renderWork();
  }

  /** The claim is no longer ours (expired, taken over, decided): keep it visible, marked, and out of reach. */
  function lose(entry) {
    entry.status = 'lost';
    renderWork();
  }

  // ---------------------------------------------------------------- rendering a claimed item

  /** Draws the claimed batch; every change to it ends here, so this is also where it is saved for a reload. */
  function renderWork() {
    saveWork();
    const list = $('work-list');
    clear(list);
    $('work-count').textContent = String(state.work.filter((e) => e.status === 'open').length);
    state.work.forEach((entry, i) => {
      const li = el('li', null, entry.status + (i === state.current ? ' current' : ''));
      li.dataset.reviewId = entry.item.reviewId;
      li.dataset.commentId = entry.item.commentId;
      li.dataset.status = entry.status;
      li.appendChild(el('span', entry.item.commentId, 'mono'));
      li.appendChild(el('span', entry.item.body.slice(0, 60), 'excerpt'));
      if (entry.status === 'lost') li.appendChild(el('span', 'claim lost', 'pill warn'));
      li.addEventListener('click', () => { state.current = i; renderWork(); });
      list.appendChild(li);
    });
    $('work-empty').hidden = state.work.length > 0;
    const entry = state.work[state.current];
    $('item').hidden = !entry;
    if (entry) renderItem(entry);
    const current = list.querySelector('li.current');
    if (current && current.scrollIntoView) current.scrollIntoView({ block: 'nearest' });
  }

  /** The body split at every span boundary; a piece inside one or more findings is a highlighted <mark>. */
  function highlighted(body, findings) {
    const frag = document.createDocumentFragment();
    const cuts = new Set([0, body.length]);
    const spans = [];
    for (const f of findings) {
      for (const s of f.spans || []) {
        const start = Math.max(0, Math.min(body.length, s.start || 0));
        const end = Math.max(start, Math.min(body.length, s.end || 0));
        if (end > start) {
          spans.push({ start, end, code: f.code, category: f.category });
          cuts.add(start);
          cuts.add(end);
        }
      }
    }
    const points = Array.from(cuts).sort((a, b) => a - b);
    for (let i = 0; i + 1 < points.length; i++) {
      const a = points[i];
      const b = points[i + 1];
      const piece = body.slice(a, b);
      const covering = spans.filter((s) => s.start <= a && b <= s.end);
      if (!covering.length) {
        frag.appendChild(document.createTextNode(piece));
        continue;
      }
      const mark = el('mark', piece, 'hl ' + covering.map((s) => 'cat-' + String(s.category).replace('CATEGORY_', '').toLowerCase()).join(' '));
      const codes = covering.map((s) => s.code).filter((c, j, all) => all.indexOf(c) === j);
      mark.dataset.codes = codes.join(' ');
      mark.title = codes.join(', ');
      frag.appendChild(mark);
    }
    return frag;
  }

  function renderItem(entry) {
    const item = entry.item;
    $('item').dataset.reviewId = item.reviewId;
    $('item').dataset.status = entry.status;
    $('item-comment').textContent = item.commentId;
    $('item-thread').textContent = item.threadId;
    $('item-queue').textContent = item.queue === 'QUEUE_REPORTED' ? 'reported' : 'pending';
    $('item-submitted').textContent = when(item.submittedAt);
    $('item-lease').textContent = entry.status === 'lost' ? 'lost' : leaseLeft(item.leaseExpiresAt);
    const body = $('item-body');
    clear(body);
    body.appendChild(highlighted(item.body || '', item.findings || []));

    const findings = $('item-findings');
    clear(findings);
    for (const f of item.findings || []) {
      const li = el('li');
      li.dataset.code = f.code;
      li.appendChild(el('code', f.code));
      li.appendChild(el('span', ' ' + Number(f.score || 0).toFixed(2), 'score'));
      if (f.detail) li.appendChild(el('span', ' — ' + f.detail, 'detail'));
      findings.appendChild(li);
    }
    if (!findings.firstChild) findings.appendChild(el('li', 'none', 'hint'));

    const scores = $('item-scores');
    clear(scores);
    const rows = [['spam', item.spamScore]];
    const abuse = item.abuseScores || {};
    for (const [name, key] of [['threat', 'threat'], ['identity attack', 'identityAttack'], ['insult', 'insult'],
      ['sexual', 'sexual'], ['profanity', 'profanity']]) rows.push([name, abuse[key]]);
    for (const [name, value] of rows) {
      const v = Number(value || 0);
      const tr = el('tr');
      tr.appendChild(el('th', name));
      const bar = el('td');
      const meter = el('meter');
      meter.min = 0; meter.max = 1; meter.low = 0.5; meter.high = 0.8; meter.optimum = 0; meter.value = v;
      bar.appendChild(meter);
      tr.appendChild(bar);
      tr.appendChild(el('td', v.toFixed(2), 'mono'));
      scores.appendChild(tr);
    }

    const reports = $('item-reports');
    clear(reports);
    if (item.reportCount > 0) {
      reports.appendChild(el('h3', 'Reports'));
      reports.appendChild(el('p', item.reportCount + ' reader' + (item.reportCount > 1 ? 's' : '') + ': ' + (item.reportReasons || []).join(', ')));
    }

    const author = $('item-author');
    clear(author);
    const a = item.author || {};
    for (const [label, value] of [['name', a.displayName], ['account', a.accountId], ['email', a.email],
      ['address', a.ip], ['website', a.websiteUrl]]) {
      if (!value) continue;
      author.appendChild(el('dt', label));
      author.appendChild(el('dd', value));
    }
    $('item-approved').textContent = String(item.authorApprovedCount || 0);
    $('item-rejected').textContent = String(item.authorRejectedCount || 0);
    if (!$('reasons').value) $('reasons').placeholder = reasonsOf(item).join(', ') || 'e.g. spam.links';
    for (const button of document.querySelectorAll('#decide-form button')) button.disabled = entry.status !== 'open';
  }

  function leaseLeft(ts) {
    if (!ts) return '';
    const left = Math.round((new Date(ts).getTime() - Date.now()) / 1000);
    if (isNaN(left)) return '';
    return left > 0 ? duration(String(left)) + ' left' : 'expired';
  }

  setInterval(() => {
    const entry = state.work[state.current];
    if (entry && entry.status === 'open' && state.view === 'work') $('item-lease').textContent = leaseLeft(entry.item.leaseExpiresAt);
  }, 1000);

  // ---------------------------------------------------------------- keyboard

  function typing(target) {
    return target && (target.tagName === 'TEXTAREA' || target.tagName === 'INPUT' || target.tagName === 'SELECT');
  }

  function toggleHelp(open) {
    $('help').hidden = open === undefined ? !$('help').hidden : !open;
    if (!$('help').hidden) $('help-close').focus();
  }

  const GOTO = { d: 'dashboard', p: 'pending', r: 'reported', w: 'work', l: 'audit' };
  const ACTIONS = {
    a: 'REVIEW_ACTION_APPROVE', r: 'REVIEW_ACTION_REJECT', s: 'REVIEW_ACTION_REJECT_SPAM', b: 'REVIEW_ACTION_REJECT_ABUSE',
  };

  function onKey(e) {
    if (!state.token || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === 'Escape') {
      if (!$('help').hidden) toggleHelp(false);
      else if (typing(e.target)) e.target.blur();
      return;
    }
    if (typing(e.target)) return;
    if (e.key === '?') { e.preventDefault(); toggleHelp(); return; }
    if (!$('help').hidden) return;
    if (state.pendingG) {
      state.pendingG = false;
      if (GOTO[e.key]) { e.preventDefault(); show(GOTO[e.key]); }
      return;
    }
    if (e.key === 'g') { state.pendingG = true; return; }
    if (e.key === 'c') { e.preventDefault(); claim('pending'); return; }
    if (state.view !== 'work') return;
    if (e.key === 'j') { e.preventDefault(); move(1); } else if (e.key === 'k') { e.preventDefault(); move(-1); } else if (ACTIONS[e.key]) {
      e.preventDefault();
      decide(ACTIONS[e.key]);
    } else if (e.key === 'x') { e.preventDefault(); release(); } else if (e.key === 'n') { e.preventDefault(); $('note').focus(); }
  }

  // ---------------------------------------------------------------- wiring

  function init() {
    $('login-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const token = $('token').value.trim();
      $('token').value = '';
      if (token) login(token);
    });
    $('logout').addEventListener('click', async () => {
      if (await releaseAll()) logout(false);
    });
    $('site').addEventListener('change', async () => {
      if (!(await releaseAll())) {
        $('site').value = state.site;
        return;
      }
      state.site = $('site').value;
      sessionStorage.setItem(SITE_KEY, state.site);
      state.work = [];
      state.current = -1;
      saveWork();
      show(state.view === 'work' ? 'dashboard' : state.view);
    });
    for (const tab of document.querySelectorAll('.tab')) tab.addEventListener('click', () => show(tab.dataset.view));
    $('claim-pending').addEventListener('click', () => claim('pending'));
    $('claim-reported').addEventListener('click', () => claim('reported'));
    $('refresh').addEventListener('click', loadStats);
    $('audit-reload').addEventListener('click', loadAudit);
    for (const b of document.querySelectorAll('.reload')) b.addEventListener('click', () => loadQueue(b.dataset.queue, false));
    for (const b of document.querySelectorAll('.more')) b.addEventListener('click', () => loadQueue(b.dataset.queue, true));
    for (const b of document.querySelectorAll('#decide-form button[data-action]')) b.addEventListener('click', () => decide(b.dataset.action));
    $('do-release').addEventListener('click', release);
    $('decide-form').addEventListener('submit', (e) => e.preventDefault());
    $('help-btn').addEventListener('click', () => toggleHelp(true));
    $('help-close').addEventListener('click', () => toggleHelp(false));
    $('error-close').addEventListener('click', hideError);
    $('error-retry').addEventListener('click', () => {
      const r = state.retry && state.retry.fn;
      hideError();
      if (r) r();
    });
    document.addEventListener('keydown', onKey);
    const saved = sessionStorage.getItem(TOKEN_KEY);
    if (saved) {
      login(saved);
    } else {
      $('login').hidden = false;
      document.body.dataset.screen = 'login';
      $('token').focus();
    }
  }

  init();
})();
