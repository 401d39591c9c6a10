/*
 * app.js - the admin panel of smartproxy-api: a single page in plain
 * JavaScript, no framework, no build step, nothing from another host.
 *
 * It calls the same /v1 endpoints as smartproxyctl, authenticated by the
 * session cookie (HttpOnly: this script never sees it) plus the session's
 * CSRF token in X-CSRF-Token on every change. So every check and every
 * revision is the API's own; a 400 names the field ('field' in its
 * message), and the error is shown next to that field.
 *
 * The DOM is built with createElement and textContent only: nothing the
 * API returns is ever parsed as HTML.
 */
'use strict';

(function () {
  var session = null;          // {user, role, csrf, idle_timeout}
  var seenRules = {};          // id -> rule, to show purged ones
  var refreshTimer = null;

  // ---- small helpers ----

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs) {
    var e = document.createElement(tag), i, k, c;
    attrs = attrs || {};
    for (k in attrs) {
      if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'onclick') e.addEventListener('click', attrs[k]);
      else if (k === 'onsubmit') e.addEventListener('submit', attrs[k]);
      else if (k === 'checked' || k === 'hidden' || k === 'disabled') e[k] = !!attrs[k];
      else if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, attrs[k]);
    }
    for (i = 2; i < arguments.length; i++) {
      c = arguments[i];
      if (c === null || c === undefined) continue;
      e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    }
    return e;
  }

  function say(text) {
    $('status').textContent = text;
    if (text) setTimeout(function () {
      if ($('status').textContent === text) $('status').textContent = '';
    }, 4000);
  }

  function canChange() { return session && session.role === 'admin'; }

  function fmt(v) {
    if (v === null || v === undefined || v === '') return '—';
    if (typeof v === 'object') return JSON.stringify(v);
    return String(v);
  }

  function age(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) return 'unknown';
    var s = Math.max(0, Math.round((Date.now() - t) / 1000));
    if (s < 120) return s + ' s ago';
    if (s < 7200) return Math.round(s / 60) + ' min ago';
    return Math.round(s / 3600) + ' h ago';
  }

  // ---- the API ----

  // Resolves to {status, body}; never rejects on an HTTP status.
  function api(method, path, body) {
    var opts = { method: method, credentials: 'same-origin', headers: {} };
    if (method !== 'GET') {
      if (session) opts.headers['X-CSRF-Token'] = session.csrf;
      if (body !== undefined) {
        opts.headers['Content-Type'] = 'application/json';
        opts.body = JSON.stringify(body);
      }
    }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (t) {
        var b = null;
        try { b = t ? JSON.parse(t) : null; } catch (e) { b = null; }
        if (r.status === 401 && path.indexOf('/v1/panel/') !== 0) loggedOut();
        return { status: r.status, body: b };
      });
    }, function () { return { status: 0, body: null }; });
  }

  function errText(res) {
    if (res.body && res.body.error) return res.body.error.message;
    if (res.status === 0) return 'the API does not answer';
    return 'HTTP ' + res.status;
  }

  // A form's inputs carry data-field="odette_id"; an error message that
  // names 'odette_id' (or 'tls.pins[2]') lands next to that input.
  function showErrors(form, res) {
    var msg = errText(res), m = /'([A-Za-z0-9_.]+)(\[\d+\])?'/.exec(msg);
    var spot = null, name, i, outs;
    outs = form.querySelectorAll('.field-error, .form-error');
    for (i = 0; i < outs.length; i++) outs[i].textContent = '';
    if (m) {
      name = m[1];
      spot = form.querySelector('.field-error[data-for="' + name + '"]');
      if (!spot && name.indexOf('.') > 0)
        spot = form.querySelector('.field-error[data-for="' + name.split('.')[0] + '"]');
    }
    if (!spot) spot = form.querySelector('.form-error');
    spot.textContent = msg;
    var input = spot.dataset && spot.dataset.for ?
      form.querySelector('[data-field="' + spot.dataset.for + '"]') : null;
    if (input) { input.setAttribute('aria-invalid', 'true'); input.focus(); }
  }

  function clearErrors(form) {
    var outs = form.querySelectorAll('.field-error, .form-error'), i;
    for (i = 0; i < outs.length; i++) outs[i].textContent = '';
    outs = form.querySelectorAll('[aria-invalid]');
    for (i = 0; i < outs.length; i++) outs[i].removeAttribute('aria-invalid');
  }

  // One labelled field of a form.box: [label, input + error].
  function field(form, idp, name, label, opts) {
    opts = opts || {};
    var id = idp + '-' + name.replace(/\./g, '-'), input;
    if (opts.type === 'select') {
      input = el('select', { id: id, 'data-field': name });
      opts.choices.forEach(function (c) {
        input.appendChild(el('option', { value: c[0], text: c[1] }));
      });
    } else if (opts.type === 'textarea') {
      input = el('textarea', { id: id, 'data-field': name, rows: opts.rows || 3 });
    } else {
      input = el('input', { id: id, 'data-field': name, type: opts.type || 'text',
        placeholder: opts.placeholder || null, autocomplete: opts.autocomplete || 'off' });
    }
    if (opts.value !== undefined && opts.value !== null) {
      if (opts.type === 'checkbox') input.checked = !!opts.value;
      else input.value = opts.value;
    }
    var err = el('p', { 'class': 'field-error', 'data-for': name, id: id + '-error', role: 'alert' });
    input.setAttribute('aria-describedby', id + '-error');
    form.appendChild(el('label', { 'for': id, text: label }));
    form.appendChild(el('div', null, input, err));
    return input;
  }

  function table(headers, rows, rowClass) {
    var t = el('table'), tr = el('tr');
    headers.forEach(function (h) { tr.appendChild(el('th', { scope: 'col', text: h })); });
    t.appendChild(el('thead', null, tr));
    var tb = el('tbody');
    rows.forEach(function (r, i) {
      var row = el('tr', rowClass ? { 'class': rowClass(i) || null } : null);
      r.forEach(function (c) {
        row.appendChild(c instanceof Node ? el('td', null, c) : el('td', { text: fmt(c) }));
      });
      tb.appendChild(row);
    });
    t.appendChild(tb);
    return t;
  }

  function lines(text) {
    return text.split(/[\s,]+/).filter(function (s) { return s.length > 0; });
  }

  // ---- login and logout ----

  function showLogin() {
    session = null;
    $('nav').hidden = true;
    $('who').hidden = true;
    $('page').hidden = true;
    $('page').textContent = '';
    $('login-page').hidden = false;
    $('login-user').focus();
  }

  function loggedOut() {
    if (refreshTimer) clearInterval(refreshTimer);
    refreshTimer = null;
    if (session) say('The login ended: log in again.');
    showLogin();
  }

  function loggedIn(s) {
    session = s;
    $('login-page').hidden = true;
    $('nav').hidden = false;
    $('who').hidden = false;
    $('who-name').textContent = s.user + ' (' + s.role + ')';
    $('page').hidden = false;
    route();
  }

  $('login-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = $('login-form');
    clearErrors(f);
    api('POST', '/v1/panel/login', { user: $('login-user').value,
      password: $('login-password').value }).then(function (res) {
      $('login-password').value = '';
      if (res.status === 200) loggedIn(res.body);
      else $('login-error').textContent = errText(res);
    });
  });

  $('logout').addEventListener('click', function () {
    api('POST', '/v1/panel/logout').then(function () {
      if (refreshTimer) clearInterval(refreshTimer);
      refreshTimer = null;
      session = null;
      location.hash = '';
      showLogin();
      say('Logged out.');
    });
  });

  // ---- pages ----

  var pages = {};

  function route() {
    if (!session) return;
    var name = (location.hash || '#dashboard').slice(1);
    if (!pages[name]) name = 'dashboard';
    var links = document.querySelectorAll('nav a'), i;
    for (i = 0; i < links.length; i++) {
      if (links[i].getAttribute('href') === '#' + name) links[i].setAttribute('aria-current', 'page');
      else links[i].removeAttribute('aria-current');
    }
    if (refreshTimer) clearInterval(refreshTimer);
    refreshTimer = null;
    $('status').textContent = '';
    var page = $('page');
    page.textContent = '';
    page.setAttribute('data-page', name);
    pages[name](page);
  }
  window.addEventListener('hashchange', route);

  function heading(page, text) {
    var h = el('h2', { text: text, tabindex: '-1' });
    page.appendChild(h);
    h.focus();
  }

  function na(text) { return el('p', { 'class': 'na', text: text }); }

  // The heartbeat's age, wherever GET /v1/status carries it (its own
  // member, the proxy's, or the status's): null when it does not.
  function heartbeat(doc) {
    var spots = [doc, doc.proxy, doc.proxy && doc.proxy.status], i, k, v;
    for (i = 0; i < spots.length; i++) {
      if (!spots[i] || typeof spots[i] !== 'object') continue;
      for (k in spots[i]) {
        if (k.indexOf('heartbeat') < 0) continue;
        v = spots[i][k];
        if (v === null || v === undefined) continue;
        if (typeof v === 'object') {
          if (typeof v.age_ms === 'number') return Math.round(v.age_ms / 1000) + ' s old';
          if (typeof v.age_s === 'number') return v.age_s + ' s old';
          var t = v.last || v.received || v.time || v.at;
          if (t) return age(t) + ' (' + t + ')';
          return JSON.stringify(v);
        }
        if (typeof v === 'number') return /_ms$/.test(k) ? Math.round(v / 1000) + ' s' : v + ' s';
        if (!isNaN(Date.parse(v))) return age(v) + ' (' + v + ')';
        return String(v);
      }
    }
    return null;
  }

  // Dashboard: proxy status and heartbeat, tunnel, live sessions, recent
  // security events, revision applied. Refreshed every 2 seconds.
  pages.dashboard = function (page) {
    heading(page, 'Dashboard');
    var box = el('div', { id: 'dash' });
    page.appendChild(box);
    function draw() {
      Promise.all([api('GET', '/v1/status'), api('GET', '/v1/sessions/live'),
        api('GET', '/v1/events?limit=10')]).then(function (r) {
        if (page.getAttribute('data-page') !== 'dashboard') return;
        var st = r[0], live = r[1], ev = r[2], cards = el('div', { 'class': 'cards' });
        box.textContent = '';
        box.appendChild(cards);
        // Proxy and tunnel.
        var p = st.body && st.body.proxy, s = p && p.status, c1 = el('div', { 'class': 'card', id: 'dash-proxy' });
        c1.appendChild(el('h3', { text: 'Proxy and tunnel' }));
        if (st.status !== 200) c1.appendChild(na('status: ' + errText(st)));
        else if (!p) c1.appendChild(na('no report from smartproxy-client yet'));
        else {
          c1.appendChild(el('p', null, 'Tunnel: ', el('strong', {
            'class': s.connected ? 'ok' : 'bad', id: 'dash-tunnel',
            text: s.connected ? 'connected' : 'not connected' }),
            s.server ? ' to ' + s.server : ''));
          c1.appendChild(el('p', { text: 'Last report: ' + age(p.received) + ' (' + p.received + ')' }));
          var hb = heartbeat(st.body);
          c1.appendChild(el('p', hb === null ? { 'class': 'na', id: 'dash-heartbeat', text: 'Heartbeat: not available' } :
            { id: 'dash-heartbeat', text: 'Heartbeat: ' + hb }));
          if (s.proxy_id) c1.appendChild(el('p', { text: 'Proxy ID: ' + s.proxy_id.slice(0, 16) + '…' }));
        }
        cards.appendChild(c1);
        // Revision.
        var c2 = el('div', { 'class': 'card', id: 'dash-revision' });
        c2.appendChild(el('h3', { text: 'Configuration' }));
        if (st.status === 200) {
          c2.appendChild(el('p', { text: 'Backend revision: ' + st.body.revision }));
          var applied = s ? s.revision_applied : null;
          c2.appendChild(el('p', { text: 'Applied by the proxy: ' + fmt(applied) +
            (applied !== null && applied !== undefined && applied !== st.body.revision ? ' (pending)' : '') }));
        }
        cards.appendChild(c2);
        // Live sessions (another endpoint: "not available" until it exists).
        box.appendChild(el('h3', { text: 'Live sessions' }));
        if (live.status === 404) box.appendChild(na('Live sessions: not available (this backend has no /v1/sessions/live).'));
        else if (live.status !== 200) box.appendChild(na('Live sessions: ' + errText(live)));
        else {
          var ls = live.body.sessions || [];
          if (!ls.length) box.appendChild(el('p', { id: 'live-none', text: 'No session now.' }));
          else box.appendChild(table(['session', 'partner', 'from', 'started', 'file', 'progress'],
            ls.map(function (x) {
              var done = x.bytes_done !== undefined ? x.bytes_done : x.bytes_from_partner,
                total = x.file_size !== undefined ? x.file_size : x.size, prog;
              if (typeof done === 'number' && typeof total === 'number' && total > 0)
                prog = el('progress', { max: String(total), value: String(done),
                  'aria-label': 'progress of session ' + x.session }, Math.round(100 * done / total) + ' %');
              else prog = fmt(done !== undefined ? done + ' octets' : null);
              var file = x.file && typeof x.file === 'object' ? x.file.name : x.file;
              return [x.session || x.id, x.partner || x.odette_id, x.source_address, x.started, file, prog];
            }))).setAttribute('id', 'live-table');
        }
        // Recent security events.
        box.appendChild(el('h3', { text: 'Recent events' }));
        if (ev.status !== 200) box.appendChild(na(errText(ev)));
        else {
          var evs = (ev.body.events || []).slice().reverse();
          if (!evs.length) box.appendChild(el('p', { text: 'No event.' }));
          else box.appendChild(table(['received', 'type', 'severity', 'partner', 'message'],
            evs.map(function (e) { return [e.received, e.type, e.severity, e.partner, e.message]; })));
        }
      });
    }
    draw();
    refreshTimer = setInterval(draw, 2000);
  };

  // Partners: search, add, change, enable/disable, online block, remove.
  pages.partners = function (page) {
    heading(page, 'Partners');
    var search = el('input', { id: 'partner-search', type: 'search' });
    page.appendChild(el('p', null, el('label', { 'for': 'partner-search', text: 'Search ' }), search));
    var list = el('div', { id: 'partner-list' });
    page.appendChild(list);
    var formBox = el('div', { id: 'partner-form-box' });
    page.appendChild(formBox);
    var all = [], blocks = {};

    function draw() {
      var q = search.value.toLowerCase();
      var rows = all.filter(function (p) {
        return !q || p.odette_id.toLowerCase().indexOf(q) >= 0 ||
          (p.description || '').toLowerCase().indexOf(q) >= 0;
      });
      list.textContent = '';
      list.appendChild(table(['ODETTE ID', 'description', 'networks', 'certificate', 'enabled', 'online block', 'valid', 'actions'],
        rows.map(function (p) {
          var acts = el('span');
          if (canChange()) {
            acts.appendChild(el('button', { type: 'button', id: 'edit-' + p.odette_id, text: 'Change',
              onclick: function () { showForm(p); } }));
            acts.appendChild(el('button', { type: 'button', id: (p.enabled ? 'disable-' : 'enable-') + p.odette_id,
              text: p.enabled ? 'Disable' : 'Enable',
              onclick: function () { act('POST', '/v1/partners/' + p.odette_id + (p.enabled ? '/disable' : '/enable')); } }));
            acts.appendChild(el('button', { type: 'button', id: 'block-' + p.odette_id,
              text: blocks[p.odette_id] ? 'Lift online block' : 'Block online',
              onclick: function () {
                act(blocks[p.odette_id] ? 'DELETE' : 'POST', '/v1/partners/' + p.odette_id + '/online_block');
              } }));
            acts.appendChild(el('button', { type: 'button', id: 'remove-' + p.odette_id, text: 'Remove',
              onclick: function () {
                if (window.confirm('Remove partner ' + p.odette_id + '?'))
                  act('DELETE', '/v1/partners/' + p.odette_id);
              } }));
          }
          var tls = p.tls || {};
          return [p.odette_id, p.description, (p.allowed_networks || []).join(', '),
            (tls.require_client_cert ? 'required' : 'optional') + (tls.bind ? ', bound by ' + tls.bind : '') +
              ((tls.pins || []).length ? ', ' + tls.pins.length + ' pin(s)' : '') + (tls.ca_bundle ? ', CA bundle' : ''),
            p.enabled ? 'yes' : 'no', blocks[p.odette_id] ? 'blocked' : 'no',
            (p.valid_from || '…') + ' – ' + (p.valid_until || '…'), acts];
        }), function (i) { return rows[i].enabled ? null : 'disabled'; }));
    }

    function load() {
      return Promise.all([api('GET', '/v1/partners'), api('GET', '/v1/blocks')]).then(function (r) {
        if (r[0].status !== 200) { list.textContent = ''; list.appendChild(na(errText(r[0]))); return; }
        all = r[0].body.partners || [];
        blocks = {};
        if (r[1].status === 200) (r[1].body.online || []).forEach(function (b) { blocks[b.odette_id] = true; });
        draw();
      });
    }

    function act(method, path) {
      api(method, path).then(function (res) {
        if (res.status >= 300) say(errText(res));
        else say(method + ' ' + path + ': done');
        load();
      });
    }

    // The add form (p undefined) or the change form of partner p.
    function showForm(p) {
      formBox.textContent = '';
      var f = el('form', { 'class': 'box', id: 'partner-form', novalidate: 'novalidate' });
      var tls = (p && p.tls) || {};
      f.appendChild(el('h3', { 'class': 'full', text: p ? 'Change ' + p.odette_id : 'Add a partner' }));
      f.appendChild(el('p', { 'class': 'form-error full', role: 'alert' }));
      var id = field(f, 'pf', 'odette_id', 'ODETTE ID', { value: p ? p.odette_id : '' });
      if (p) id.disabled = true;
      var pw = field(f, 'pf', 'password', p ? 'New password (empty: keep)' : 'Password (SSID, up to 8)',
        { type: 'password', autocomplete: 'new-password' });
      var desc = field(f, 'pf', 'description', 'Description', { value: p ? p.description : '' });
      var nets = field(f, 'pf', 'allowed_networks', 'Allowed networks (one a line)',
        { type: 'textarea', value: p ? (p.allowed_networks || []).join('\n') : '' });
      var ms = field(f, 'pf', 'max_sessions', 'Max sessions (0: no limit)',
        { type: 'number', value: p ? p.max_sessions : 0 });
      var from = field(f, 'pf', 'valid_from', 'Valid from', { placeholder: 'YYYY-MM-DDTHH:MM:SSZ', value: p ? p.valid_from : '' });
      var until = field(f, 'pf', 'valid_until', 'Valid until', { placeholder: 'YYYY-MM-DDTHH:MM:SSZ', value: p ? p.valid_until : '' });
      var rcc = field(f, 'pf', 'tls.require_client_cert', 'Client certificate required',
        { type: 'checkbox', value: tls.require_client_cert });
      var pins = field(f, 'pf', 'tls.pins', 'Certificate pins (SHA-256, one a line)',
        { type: 'textarea', value: (tls.pins || []).join('\n') });
      var bind = field(f, 'pf', 'tls.bind', 'Certificate bound by', { type: 'select',
        choices: [['', '(default)'], ['none', 'none'], ['cn', 'CN = ODETTE ID'], ['san', 'SAN = ODETTE ID'], ['dn', 'exact DN']] });
      bind.value = tls.bind || '';
      var dn = field(f, 'pf', 'tls.bind_dn', 'Bound DN', { value: tls.bind_dn || '' });
      var enabled = field(f, 'pf', 'enabled', 'Enabled', { type: 'checkbox', value: p ? p.enabled : true });
      var btns = el('div', { 'class': 'full' },
        el('button', { type: 'submit', id: 'partner-save', text: p ? 'Save changes' : 'Add partner' }),
        el('button', { type: 'button', text: 'Cancel', onclick: function () { formBox.textContent = ''; } }));
      f.appendChild(btns);
      f.addEventListener('submit', function (ev) {
        ev.preventDefault();
        clearErrors(f);
        var body = { description: desc.value, allowed_networks: lines(nets.value),
          enabled: enabled.checked, tls: { require_client_cert: rcc.checked, pins: lines(pins.value) } };
        var n = ms.value.trim();
        body.max_sessions = /^\d+$/.test(n) ? parseInt(n, 10) : n;
        if (bind.value) body.tls.bind = bind.value;
        if (dn.value.trim()) body.tls.bind_dn = dn.value.trim();
        if (from.value.trim()) body.valid_from = from.value.trim(); else if (p) body.valid_from = null;
        if (until.value.trim()) body.valid_until = until.value.trim(); else if (p) body.valid_until = null;
        if (pw.value) body.password = pw.value;
        if (!p) body.odette_id = id.value.trim();
        api(p ? 'PUT' : 'POST', p ? '/v1/partners/' + p.odette_id : '/v1/partners', body).then(function (res) {
          if (res.status === 200 || res.status === 201) {
            formBox.textContent = '';
            say((p ? 'Changed ' : 'Added ') + res.body.odette_id);
            load();
          } else showErrors(f, res);
        });
      });
      formBox.appendChild(f);
      (p ? pw : id).focus();
    }

    search.addEventListener('input', draw);
    if (canChange())
      page.insertBefore(el('p', null, el('button', { type: 'button', id: 'partner-add', text: 'Add a partner',
        onclick: function () { showForm(); } })), list);
    load();
  };

  // Log-ignore rules: description, match, validity window; expired rules
  // are purged by the backend, and shown so once they are gone.
  pages.rules = function (page) {
    heading(page, 'Log-ignore rules');
    var list = el('div', { id: 'rule-list' });
    page.appendChild(list);
    function load() {
      api('GET', '/v1/rules').then(function (res) {
        list.textContent = '';
        if (res.status !== 200) { list.appendChild(na(errText(res))); return; }
        var now = Date.now(), present = {}, rows = [];
        (res.body.rules || []).forEach(function (r) { present[r.id] = true; seenRules[r.id] = r; });
        Object.keys(seenRules).forEach(function (k) { rows.push(seenRules[k]); });
        rows.sort(function (a, b) { return a.id - b.id; });
        list.appendChild(table(['id', 'description', 'match', 'valid from', 'valid until', 'state', ''],
          rows.map(function (r) {
            var state;
            if (!present[r.id]) state = 'expired, purged';
            else if (r.valid_until && Date.parse(r.valid_until) <= now) state = 'expired, being purged';
            else if (r.valid_from && Date.parse(r.valid_from) > now) state = 'not yet valid';
            else state = 'in force';
            var rm = present[r.id] && canChange() ? el('button', { type: 'button', id: 'rule-remove-' + r.id,
              text: 'Remove', onclick: function () {
                api('DELETE', '/v1/rules/' + r.id).then(function (x) {
                  if (x.status === 204) delete seenRules[r.id];
                  say(x.status === 204 ? 'Rule ' + r.id + ' removed' : errText(x));
                  load();
                });
              } }) : '';
            return [r.id, r.description, r.match, r.valid_from, r.valid_until, state, rm];
          }), function (i) { return present[rows[i].id] ? null : 'purged'; }));
      });
    }
    if (canChange()) {
      var f = el('form', { 'class': 'box', id: 'rule-form', novalidate: 'novalidate' });
      f.appendChild(el('h3', { 'class': 'full', text: 'Add a rule' }));
      f.appendChild(el('p', { 'class': 'form-error full', role: 'alert' }));
      var d = field(f, 'rf', 'description', 'Description');
      var m = field(f, 'rf', 'match', 'Match text');
      var from = field(f, 'rf', 'valid_from', 'Valid from', { placeholder: 'YYYY-MM-DDTHH:MM:SSZ' });
      var until = field(f, 'rf', 'valid_until', 'Valid until', { placeholder: 'YYYY-MM-DDTHH:MM:SSZ' });
      f.appendChild(el('div', { 'class': 'full' }, el('button', { type: 'submit', id: 'rule-save', text: 'Add rule' })));
      f.addEventListener('submit', function (ev) {
        ev.preventDefault();
        clearErrors(f);
        var body = { description: d.value, match: m.value };
        if (from.value.trim()) body.valid_from = from.value.trim();
        if (until.value.trim()) body.valid_until = until.value.trim();
        api('POST', '/v1/rules', body).then(function (res) {
          if (res.status === 201) {
            // Known from the answer: a rule that ends within seconds may be
            // purged before the next listing, and is then shown purged.
            seenRules[res.body.id] = res.body;
            f.reset();
            say('Rule ' + res.body.id + ' added');
            load();
          } else showErrors(f, res);
        });
      });
      page.appendChild(f);
    }
    load();
    refreshTimer = setInterval(load, 5000);
  };

  // Listeners (with a new certificate and key) and routes.
  pages.listeners = function (page) {
    heading(page, 'Listeners and routes');
    var list = el('div', { id: 'listener-list' }), routes = el('div', { id: 'route-list' });
    page.appendChild(list);
    function load() {
      api('GET', '/v1/listeners').then(function (res) {
        list.textContent = '';
        if (res.status !== 200) { list.appendChild(na(errText(res))); return; }
        var ls = res.body.listeners || [];
        list.appendChild(table(['name', 'address', 'certificate (SHA-256)', 'client certificate', ''],
          ls.map(function (l) {
            var tls = l.tls || {};
            return [l.name, l.address, tls.certificate_sha256 ? tls.certificate_sha256.slice(0, 16) + '…' : 'plain',
              tls.require_client_cert ? 'required' : 'optional',
              canChange() && tls.certificate_sha256 ? el('button', { type: 'button', id: 'cert-' + l.name,
                text: 'New certificate', onclick: function () { certForm(l); } }) : ''];
          })));
      });
    }
    function certForm(l) {
      var old = $('cert-form');
      if (old) old.parentNode.removeChild(old);
      var f = el('form', { 'class': 'box', id: 'cert-form', novalidate: 'novalidate' });
      f.appendChild(el('h3', { 'class': 'full', text: 'New certificate for ' + l.name }));
      f.appendChild(el('p', { 'class': 'form-error full', role: 'alert' }));
      var chain = field(f, 'cf', 'certificate_chain', 'Certificate chain (PEM file)', { type: 'file' });
      var key = field(f, 'cf', 'private_key', 'Private key (PEM file)', { type: 'file' });
      var rcc = field(f, 'cf', 'require_client_cert', 'Client certificate required',
        { type: 'checkbox', value: l.tls && l.tls.require_client_cert });
      f.appendChild(el('div', { 'class': 'full' }, el('button', { type: 'submit', id: 'cert-save', text: 'Upload' })));
      function text(input) {
        return input.files && input.files[0] ? input.files[0].text() : Promise.resolve('');
      }
      f.addEventListener('submit', function (ev) {
        ev.preventDefault();
        clearErrors(f);
        Promise.all([text(chain), text(key)]).then(function (t) {
          return api('PUT', '/v1/listeners/' + l.name + '/tls', { certificate_chain: t[0],
            private_key: t[1], require_client_cert: rcc.checked });
        }).then(function (res) {
          if (res.status === 200) { f.parentNode.removeChild(f); say('New certificate for ' + l.name); load(); }
          else showErrors(f, res);
        });
      });
      list.parentNode.insertBefore(f, routes);
      chain.focus();
    }
    page.appendChild(el('h3', { text: 'Routes' }));
    page.appendChild(routes);
    api('GET', '/v1/routes').then(function (res) {
      if (res.status !== 200) { routes.appendChild(na('Routes: ' + errText(res))); return; }
      var rs = res.body.routes || [];
      if (!rs.length) routes.appendChild(el('p', { id: 'route-none', text: 'No route.' }));
      else routes.appendChild(table(['name', 'partner', 'partner address', 'inside connects to', 'source address', 'TLS'],
        rs.map(function (r) {
          var tls = r.tls;
          return [r.name, r.partner_odette_id, r.partner_address, r.client_listen, r.source_address,
            !tls ? 'plain' : ((tls.pins || []).length + ' pin(s)' + (tls.ca_bundle ? ', CA bundle' : '') +
              (tls.client_certificate_chain ? ', our client certificate' : ''))];
        })));
    });
    load();
  };

  // Session audit: filters by partner, date and result; one session's files.
  pages.sessions = function (page) {
    heading(page, 'Session audit');
    var f = el('form', { 'class': 'box', id: 'audit-form', novalidate: 'novalidate' });
    f.appendChild(el('p', { 'class': 'form-error full', role: 'alert' }));
    var partner = field(f, 'af', 'partner', 'Partner');
    var since = field(f, 'af', 'since', 'Ended since', { placeholder: 'YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ' });
    var until = field(f, 'af', 'until', 'Ended before', { placeholder: 'YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ' });
    var result = field(f, 'af', 'result', 'Result', { type: 'select',
      choices: [['', 'any'], ['ok', 'normal end'], ['failed', 'anything else']] });
    f.appendChild(el('div', { 'class': 'full' }, el('button', { type: 'submit', id: 'audit-search', text: 'Search' })));
    page.appendChild(f);
    var list = el('div', { id: 'audit-list' }), detail = el('div', { id: 'audit-detail' });
    page.appendChild(list);
    page.appendChild(detail);
    function day(v) { v = v.trim(); return /^\d{4}-\d\d-\d\d$/.test(v) ? v + 'T00:00:00Z' : v; }
    function load() {
      var q = ['limit=1000'];
      if (partner.value.trim()) q.push('partner=' + encodeURIComponent(partner.value.trim()));
      if (since.value.trim()) q.push('since=' + encodeURIComponent(day(since.value)));
      if (until.value.trim()) q.push('until=' + encodeURIComponent(day(until.value)));
      api('GET', '/v1/sessions?' + q.join('&')).then(function (res) {
        list.textContent = '';
        if (res.status !== 200) { showErrors(f, res); return; }
        var ss = (res.body.sessions || []).filter(function (s) {
          var ok = s.end_reason === 'normal';
          return !result.value || (result.value === 'ok') === ok;
        }).reverse();
        if (!ss.length) { list.appendChild(el('p', { id: 'audit-none', text: 'No session.' })); return; }
        list.appendChild(table(['session', 'partner', 'from', 'started', 'ended', 'result', 'octets in/out', 'files'],
          ss.map(function (s) {
            return [s.session, s.partner, s.source_address, s.started, s.ended,
              s.end_reason + (s.esid ? ' (ESID ' + s.esid + ' from ' + s.esid_from + ')' : ''),
              fmt(s.bytes_from_partner) + ' / ' + fmt(s.bytes_to_partner),
              el('button', { type: 'button', 'class': 'audit-files', id: 'audit-' + s.id,
                text: (s.files || []).length + ' file(s)', onclick: function () { files(s); } })];
          }))).setAttribute('id', 'audit-table');
      });
    }
    function files(s) {
      detail.textContent = '';
      detail.appendChild(el('h3', { text: 'Files of session ' + s.session, tabindex: '-1' }));
      var fs = s.files || [];
      if (!fs.length) detail.appendChild(el('p', { text: 'No file.' }));
      else detail.appendChild(table(['name', 'size', 'direction'], fs.map(function (x) {
        return [x.name || x.dsn, x.size, x.direction];
      })));
      detail.firstChild.focus();
    }
    f.addEventListener('submit', function (ev) { ev.preventDefault(); clearErrors(f); load(); });
    load();
    refreshTimer = setInterval(function () { if (!detail.firstChild) load(); }, 3000);
  };

  // Events as the event script saw them, and the script's settings.
  pages.events = function (page) {
    heading(page, 'Events');
    var set = el('div', { id: 'event-settings' }), list = el('div', { id: 'event-list' });
    page.appendChild(el('h3', { text: 'Event script' }));
    page.appendChild(set);
    page.appendChild(el('h3', { text: 'Events' }));
    page.appendChild(list);
    api('GET', '/v1/settings').then(function (res) {
      if (res.status !== 200) { set.appendChild(na('settings: ' + errText(res))); return; }
      var es = res.body.event_script || {};
      set.appendChild(table(['script', 'timeout', 'rate limit'], [[es.path || '(none: events are only stored)',
        es.timeout + ' s', es.rate_limit || '—']]));
      set.appendChild(el('p', { 'class': 'na', text: 'Set in api.yaml (event_script); a change needs a restart of smartproxy-api.' }));
    });
    api('GET', '/v1/events?limit=200').then(function (res) {
      if (res.status !== 200) { list.appendChild(na(errText(res))); return; }
      var evs = (res.body.events || []).slice().reverse();
      if (!evs.length) list.appendChild(el('p', { text: 'No event.' }));
      else list.appendChild(table(['received', 'time', 'type', 'severity', 'partner', 'source', 'session', 'message', 'count', 'script'],
        evs.map(function (e) {
          return [e.received, e.time, e.type, e.severity, e.partner, e.source_address, e.session, e.message, e.count, e.outcome];
        })));
    });
  };

  // ---- start: an existing login (cookie) or the login form ----

  api('GET', '/v1/panel/session').then(function (res) {
    if (res.status === 200) loggedIn(res.body);
    else showLogin();
  });
})();
