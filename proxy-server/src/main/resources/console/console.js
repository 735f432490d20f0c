// regmirror console: plain JavaScript, no build step. Every number comes from the admin API's JSON.
'use strict';
(() => {
  let csrf = null;
  const $ = (id) => document.getElementById(id);
  const pages = ['overview', 'upstreams', 'cluster', 'images', 'actions'];
  let timer = null;

  /** An element with attributes and children (strings become text: nothing is parsed as HTML). */
  function h(tag, attrs, ...children) {
    const svg = ['svg', 'path', 'line', 'text', 'g', 'polyline'].includes(tag);
    const el = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag) : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
    }
    return el;
  }

  function bytes(n) {
    if (n === null || n === undefined) return '–';
    const units = ['B', 'kB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i === 0 ? n : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
  }
  const when = (t) => t ? new Date(t).toLocaleString() : '–';
  /** How long ago a time was, roughly: "12 s ago", "3 min ago", "2 h ago", "4 days ago". */
  function ago(t) {
    const s = Math.max(0, Math.round((Date.now() - Date.parse(t)) / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    const d = Math.floor(s / 86400);
    return d + (d === 1 ? ' day ago' : ' days ago');
  }
  /** A time as how long ago it was, and below it the date and time as the console shows them elsewhere. */
  const stamp = (t) => t ? h('span', { class: 'stamp' }, h('time', { datetime: t }, ago(t)), h('span', { class: 'when' }, when(t))) : '–';
  const percent = (a, b) => b > 0 ? (100 * a / b).toFixed(1) + '%' : '–';

  function status(text, error) {
    const el = $('status');
    el.textContent = text || '';
    el.className = error ? 'error' : '';
  }

  /** Calls the admin API with the session cookie (and the CSRF token when it changes something). */
  async function api(path, options = {}) {
    const method = options.method || 'GET';
    const headers = { 'Accept': 'application/json' };
    if (method !== 'GET' && method !== 'HEAD') headers['X-Regmirror-Csrf'] = csrf;
    if (options.body) headers['Content-Type'] = 'application/json';
    const response = await fetch(path, { method, headers, body: options.body, credentials: 'same-origin' });
    if (response.status === 401) {
      location.href = '/signin';
      throw new Error('signed out');
    }
    const text = await response.text();
    const json = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const e = json && json.errors && json.errors[0];
      throw new Error(e ? e.code + ': ' + e.message : 'HTTP ' + response.status);
    }
    return json;
  }

  function show(page) {
    if (!pages.includes(page)) page = 'overview';
    for (const p of pages) {
      $(p).hidden = p !== page;
      const link = $('nav-' + p);
      if (p === page) link.setAttribute('aria-current', 'page'); else link.removeAttribute('aria-current');
    }
    clearTimeout(timer);
    status('');
    ({ overview: loadOverview, upstreams: loadUpstreams, cluster: loadCluster, images: loadImages, actions: loadJobs })[page]()
      .catch((e) => status(e.message, true));
  }

  function every(ms, fn) {
    clearTimeout(timer);
    timer = setTimeout(() => fn().catch((e) => status(e.message, true)), ms);
  }

  // ---------- Overview ----------
  function card(label, value, sub, fraction) {
    return h('div', { class: 'card' }, h('div', { class: 'label' }, label), h('div', { class: 'value' }, value),
      sub ? h('div', { class: 'sub' }, sub) : null,
      fraction === undefined ? null : bar(fraction));
  }
  function bar(fraction) {
    const fill = h('span');
    fill.style.width = Math.max(0, Math.min(100, 100 * fraction)).toFixed(1) + '%';
    return h('div', { class: 'bar' }, fill);
  }

  async function loadOverview() {
    const [usage, ups, history, cluster] = await Promise.all([api('/admin/usage'), api('/admin/upstreams'),
      api('/admin/history'), api('/admin/cluster')]);
    clusterNav(cluster);
    let hits = 0, blobs = 0, fromCache = 0, fetched = 0;
    for (const u of ups.upstreams) { hits += u.blobHits; blobs += u.blobRequests; fromCache += u.bytesServedFromCache; fetched += u.bytesFetched; }
    const cap = usage.maxBytes > 0 ? usage.maxBytes : usage.totalBytes + usage.freeBytes;
    $('cards').replaceChildren(
      card('Cached', bytes(usage.totalBytes),
        (usage.maxBytes > 0 ? 'of a ' + bytes(usage.maxBytes) + ' cap, ' : '') + bytes(usage.freeBytes) + ' free on disk',
        cap > 0 ? usage.totalBytes / cap : 0),
      card('Saved by shared layers', bytes(usage.sharedBytesSaved), usage.manifests + ' manifests, ' + usage.blobs + ' blobs'),
      card('Reclaimable', bytes(usage.reclaimableBytes), 'what a prune gives back'),
      card('Blob hit ratio', percent(hits, blobs), hits + ' of ' + blobs + ' blob requests since start'),
      card('Served from the cache', bytes(fromCache), bytes(fetched) + ' fetched from upstreams'),
      ...(cluster.enabled ? [clusterCard(cluster)] : []));
    $('chart-size').replaceChildren(chart(history.hour.samples, [
      { name: 'cached bytes', value: (s) => s.cacheBytes }]));
    const range = history[$('range').value];
    // Upstreams that served or fetched nothing in the range get no chart.
    const active = history.upstreams.filter((name) => deltas(range.samples, name)
      .some((d) => d.servedFromCache > 0 || d.fetched > 0) || ups.upstreams.some((u) => u.registry === name && u.blobRequests > 0));
    $('charts-upstreams').replaceChildren(active.length ? '' : h('p', {}, 'No upstream served or fetched anything yet.'),
      ...active.map((name) => h('div', {},
      h('h3', {}, name), h('div', { class: 'chart' }, chart(deltas(range.samples, name), [
        { name: 'served from the cache', value: (d) => d.servedFromCache },
        { name: 'fetched from ' + name, value: (d) => d.fetched }])))));
    every(10000, loadOverview);
  }

  /** Per interval, what each running total of an upstream grew by. */
  function deltas(samples, upstream) {
    const out = [];
    for (let i = 1; i < samples.length; i++) {
      const a = samples[i - 1].upstreams[upstream], b = samples[i].upstreams[upstream];
      if (!a || !b) continue;
      out.push({ time: samples[i].time, servedFromCache: Math.max(0, b.servedFromCache - a.servedFromCache),
        fetched: Math.max(0, b.fetched - a.fetched) });
    }
    return out;
  }

  /** A line chart in plain SVG: one line per series, time along the bottom. */
  function chart(points, series) {
    const W = 800, H = 180, L = 60, B = 20, T = 8;
    const max = Math.max(1, ...points.flatMap((p) => series.map((s) => s.value(p))));
    const t0 = points.length ? Date.parse(points[0].time) : 0;
    const t1 = points.length ? Date.parse(points[points.length - 1].time) : 1;
    const x = (p) => L + (W - L - 4) * (t1 > t0 ? (Date.parse(p.time) - t0) / (t1 - t0) : 1);
    const y = (v) => T + (H - T - B) * (1 - v / max);
    const svg = h('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': series.map((s) => s.name).join(', '),
      preserveAspectRatio: 'none' },
      h('line', { class: 'axis', x1: L, y1: H - B, x2: W, y2: H - B }),
      h('line', { class: 'axis', x1: L, y1: T, x2: L, y2: H - B }),
      h('text', { x: L - 4, y: T + 10, 'text-anchor': 'end' }, bytes(max)),
      h('text', { x: L - 4, y: H - B, 'text-anchor': 'end' }, '0'),
      points.length ? h('text', { x: L, y: H - 4 }, new Date(t0).toLocaleTimeString()) : null,
      points.length ? h('text', { x: W - 4, y: H - 4, 'text-anchor': 'end' }, new Date(t1).toLocaleTimeString()) : null,
      ...series.map((s, i) => h('polyline', { class: 'line c' + i,
        points: points.map((p) => x(p).toFixed(1) + ',' + y(s.value(p)).toFixed(1)).join(' ') })));
    return h('div', {}, svg, h('div', { class: 'legend' },
      ...series.map((s, i) => h('span', {}, h('i', { class: 'c' + i, 'aria-hidden': 'true' }), s.name))));
  }

  // ---------- Upstreams ----------
  async function loadUpstreams() {
    const ups = await api('/admin/upstreams');
    $('upstream-table').tBodies[0].replaceChildren(...ups.upstreams.map((u) => h('tr', { dataset: { upstream: u.registry } },
      h('td', {}, h('strong', {}, u.registry), ' ', h('span', { class: 'state ' + u.state }, u.state)),
      h('td', {}, ...u.endpoints.map((e) => h('div', { class: 'endpoint' },
        h('span', { class: 'state ' + e.state }, e.state === 'up' ? 'up' : 'down'), ' ', h('code', {}, e.url),
        e.skippedUntil ? h('span', { class: 'err' }, 'skipped until ' + when(e.skippedUntil)) : null,
        e.lastError ? h('span', { class: 'err' }, 'last error ' + when(e.lastErrorAt) + ': ' + e.lastError) : null))),
      h('td', { class: 'num' }, u.pullsRemaining === null ? '–' : String(u.pullsRemaining)),
      h('td', { class: 'num' }, String(u.requests)),
      h('td', { class: 'num' }, String(u.failedRequests)),
      h('td', { class: 'num' }, u.requests ? u.meanLatencyMillis + ' ms' : '–'),
      h('td', { class: 'num' }, bytes(u.bytesFetched)),
      h('td', { class: 'num' }, percent(u.blobHits, u.blobRequests)))));
    every(5000, loadUpstreams);
  }

  // ---------- Cluster ----------
  /** Shows the Cluster link only on a node in a cluster; returns the answer. */
  function clusterNav(cluster) {
    $('nav-cluster').hidden = !cluster.enabled;
    return cluster;
  }

  const countOf = (nodes, state) => nodes.filter((n) => n.state === state).length;

  function clusterCard(cluster) {
    const others = cluster.nodes.filter((n) => n.state !== 'live').map((n) => n.node + ' ' + n.state);
    return card('Cluster', countOf(cluster.nodes, 'live') + ' of ' + cluster.nodes.length + ' nodes live',
      h('a', { href: '#cluster', id: 'cluster-summary' }, others.length ? others.join(', ') : 'every node answers'));
  }

  function peersFrom(from) {
    if (from === 'list') return 'the list in regmirror.cluster.peers';
    if (from.startsWith('dns:')) return 'DNS look-ups of ' + from.slice(4) + ' (regmirror.cluster.peers-dns)';
    return from;
  }

  async function loadCluster() {
    showCluster(clusterNav(await api('/admin/cluster')));
    every(5000, loadCluster);
  }

  function showCluster(cluster) {
    $('cluster-none').hidden = cluster.enabled;
    $('cluster-view').hidden = !cluster.enabled;
    if (!cluster.enabled) return;
    $('cluster-facts').replaceChildren(
      h('div', {}, h('dt', {}, 'This node'), h('dd', {}, h('code', {}, cluster.self))),
      h('div', {}, h('dt', {}, 'Live'), h('dd', { id: 'cluster-live' },
        countOf(cluster.nodes, 'live') + ' of ' + cluster.nodes.length + ' nodes')),
      h('div', {}, h('dt', {}, 'Between the nodes'), h('dd', { id: 'cluster-tls' }, cluster.tls ? 'TLS (HTTPS)' : 'no TLS (plain HTTP)')),
      h('div', {}, h('dt', {}, 'Peers from'), h('dd', { id: 'cluster-peers' }, peersFrom(cluster.peersFrom))));
    $('cluster-table').tBodies[0].replaceChildren(...cluster.nodes.map((n) => h('tr', { dataset: { node: n.node } },
      h('td', {}, h('code', {}, n.node), n.self ? ' (this node)' : ''),
      h('td', {}, h('span', { class: 'state ' + n.state }, n.state)),
      h('td', {}, n.self ? 'always live' : stamp(n.since)),
      h('td', { class: 'num' }, String(n.failedChecks)),
      h('td', { class: 'last-error' }, n.lastError ? [h('div', {}, n.lastError), stamp(n.lastErrorAt),
        // The last error is kept after the node answers again: say when it is from before the node came up.
        n.state === 'live' && n.since && Date.parse(n.lastErrorAt) < Date.parse(n.since) ? h('span', { class: 'when' }, 'before it came up') : null]
        : '–'))));
  }

  async function findOwner(event) {
    event.preventDefault();
    const result = $('owner-result');
    result.className = '';
    result.textContent = 'Asking…';
    try {
      const cluster = await api('/admin/cluster?' + new URLSearchParams({ digest: $('owner-digest').value.trim() }));
      result.replaceChildren(h('code', {}, cluster.digest), ' is owned by ', h('strong', { id: 'owner' }, cluster.owner),
        cluster.owner === cluster.self ? ' (this node)' : '');
      showCluster(cluster);
    } catch (e) {
      result.className = 'error';
      result.textContent = e.message;
    }
  }

  // ---------- Images ----------
  const table = { q: '', sort: 'repository', order: 'asc', offset: 0, n: 50, total: 0, seq: 0 };
  let filterDelay = null;

  async function loadImages() {
    const seq = ++table.seq;
    const params = new URLSearchParams({ sort: table.sort, order: table.order, offset: table.offset, n: table.n });
    if (table.q) params.set('q', table.q);
    const page = await api('/admin/tags?' + params);
    if (seq !== table.seq) return; // a newer filter or page was asked for meanwhile
    table.total = page.total;
    $('count').textContent = page.total + (page.total === 1 ? ' tag' : ' tags');
    $('image-table').tBodies[0].replaceChildren(...page.tags.map((t) => {
      const name = t.repository + ':' + t.tag;
      const short = t.repository.startsWith(t.upstream + '/') ? t.repository.slice(t.upstream.length + 1) : t.repository;
      return h('tr', { dataset: { image: name } },
        h('td', {}, t.upstream, t.hosted ? ' (hosted)' : ''),
        h('td', {}, h('button', { type: 'button', class: 'link', 'aria-label': 'Layers of ' + name,
          onclick: () => showDetail(t).catch((e) => status(e.message, true)) }, short)),
        h('td', {}, t.tag),
        h('td', { class: 'digest', title: t.digest }, t.digest.slice(0, 19) + '…'),
        h('td', { class: 'num' }, bytes(t.size)),
        h('td', { class: 'num' }, String(t.pulls)),
        h('td', {}, when(t.lastPulled)),
        h('td', {}, t.hosted ? '' : h('button', { type: 'button', class: 'purge', 'aria-label': 'Purge ' + name,
          onclick: () => purge(name).catch((e) => status(e.message, true)) }, 'Purge')));
    }));
    const last = Math.min(table.offset + table.n, page.total);
    $('page').textContent = page.total ? (table.offset + 1) + '–' + last + ' of ' + page.total : 'nothing cached matches';
    $('prev').disabled = table.offset === 0;
    $('next').disabled = last >= page.total;
    for (const b of document.querySelectorAll('th button[data-sort]')) {
      // aria-sort belongs on the header cell; the button only shows it.
      const th = b.closest('th');
      if (b.dataset.sort === table.sort) {
        th.setAttribute('aria-sort', table.order === 'asc' ? 'ascending' : 'descending');
        b.dataset.order = table.order;
      } else {
        th.removeAttribute('aria-sort');
        delete b.dataset.order;
      }
    }
  }

  async function showDetail(t) {
    const d = await api('/admin/image?' + new URLSearchParams({ repository: t.repository, digest: t.digest }));
    const box = $('detail');
    box.replaceChildren(h('h2', { tabindex: '-1', id: 'detail-title' }, t.repository + ':' + t.tag),
      h('p', {}, h('code', {}, d.digest), ' ', d.mediaType || ''),
      // The session cookie authenticates this same-origin GET; the server answers 404 before any byte when a blob is missing.
      // A hosted repository is listed under the hosted registry's name, which ns= routes to.
      h('p', {}, h('a', { id: 'export-link', download: '',
        href: '/admin/export?' + new URLSearchParams(t.hosted
          ? { image: t.repository.slice(t.upstream.length + 1) + ':' + t.tag, ns: t.upstream }
          : { image: t.repository + ':' + t.tag }) }, 'Download (docker archive)')),
      ...d.platforms.map((p) => h('div', {},
        h('h3', {}, p.platform || 'single platform', p.cached ? '' : ' (not cached)'),
        p.blobs.length ? h('div', { class: 'table-wrap' }, h('table', {},
          h('thead', {}, h('tr', {}, h('th', {}, 'Blob'), h('th', {}, 'Kind'), h('th', { class: 'num' }, 'Size'),
            h('th', {}, 'Cached'), h('th', {}, 'Shared with'))),
          h('tbody', {}, ...p.blobs.map((b) => h('tr', {},
            h('td', { class: 'digest', title: b.digest }, b.digest.slice(0, 19) + '…'), h('td', {}, b.kind),
            h('td', { class: 'num' }, bytes(b.size)), h('td', {}, b.cached ? 'yes' : 'no'),
            h('td', { class: 'shared' }, b.sharedWith.length ? b.sharedWith.join(', ') : '–')))))) : null)));
    box.hidden = false;
    $('detail-title').focus();
  }

  /** Asks the dialog; resolves true when confirmed. */
  function confirmDialog(title, body, okLabel) {
    const dialog = $('confirm');
    $('confirm-title').textContent = title;
    $('confirm-body').replaceChildren(body);
    $('confirm-ok').textContent = okLabel;
    dialog.returnValue = '';
    dialog.showModal();
    return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
  }

  function removalList(plan) {
    plan = Object.assign({ tags: [], manifests: [], blobs: [], keptBlobs: [] }, plan);
    return h('div', {}, h('p', {}, bytes(plan.bytesFreed) + ' would be freed: ' + plan.tags.length + ' tags, '
      + plan.manifests.length + ' manifests, ' + plan.blobs.length + ' blobs.'
      + (plan.keptBlobs && plan.keptBlobs.length ? ' ' + plan.keptBlobs.length + ' shared blobs stay.' : '')),
      h('ul', { id: 'preview-list' }, ...plan.tags.map((t) => h('li', {}, t)),
        ...plan.blobs.map((b) => h('li', {}, b.digest + ' (' + bytes(b.size) + ')'))));
  }

  async function purge(name) {
    const query = new URLSearchParams({ image: name });
    const preview = await api('/admin/cache?' + query + '&dryRun=true', { method: 'DELETE' });
    if (!await confirmDialog('Purge ' + name + '?', removalList(preview), 'Purge')) return;
    const done = await api('/admin/cache?' + query, { method: 'DELETE' });
    status('Purged ' + name + ': ' + bytes(done.bytesFreed) + ' freed.');
    $('detail').hidden = true;
    await loadImages();
  }

  // ---------- Actions ----------
  async function loadJobs() {
    const { jobs } = await api('/admin/jobs');
    $('job-table').tBodies[0].replaceChildren(...jobs.map((j) => {
      const fraction = j.bytesTotal > 0 ? j.bytesDone / j.bytesTotal : (j.state === 'succeeded' ? 1 : 0);
      const label = Math.floor(100 * fraction) + '%';
      return h('tr', { dataset: { job: j.id } },
        h('td', {}, h('code', {}, j.id), ' ', j.type),
        h('td', {}, j.image || 'whole cache'),
        h('td', {}, h('span', { class: 'state ' + j.state }, j.state), j.error ? ' ' + j.error.code + ': ' + j.error.message : ''),
        h('td', {}, h('progress', { max: 1000, value: Math.round(1000 * fraction), 'aria-label': 'progress of ' + j.id }),
          ' ', h('span', { class: 'percent' }, label), ' ', bytes(j.bytesDone) + ' of ' + bytes(j.bytesTotal)),
        h('td', {}, when(j.created)));
    }));
    const busy = jobs.some((j) => j.state === 'running' || j.state === 'queued');
    every(busy ? 500 : 5000, loadJobs);
  }

  async function prefetch(event) {
    event.preventDefault();
    const image = $('prefetch-image').value.trim();
    const platforms = $('prefetch-platforms').value.split(',').map((p) => p.trim()).filter((p) => p);
    const job = await api('/admin/prefetch', { method: 'POST', body: JSON.stringify({ image, platforms }) });
    status('Prefetching ' + job.image + ' (job ' + job.id + ').');
    await loadJobs();
  }

  async function prune() {
    const preview = await api('/admin/prune?dryRun=true', { method: 'POST' });
    if (!await confirmDialog('Prune the cache?', removalList(preview), 'Prune')) return;
    const done = await api('/admin/prune', { method: 'POST' });
    status('Pruned: ' + bytes(done.bytesFreed) + ' freed.');
  }

  /**
   * Uploads the chosen archive to POST /admin/import with the CSRF token, the bar following the
   * upload (XMLHttpRequest: fetch reports no upload progress); resolves to the import's answer.
   */
  function upload(file, onProgress) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', '/admin/import');
      xhr.setRequestHeader('X-Regmirror-Csrf', csrf);
      xhr.setRequestHeader('Content-Type', 'application/x-tar');
      xhr.setRequestHeader('Accept', 'application/json');
      xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) onProgress(e.loaded / e.total); });
      xhr.addEventListener('load', () => {
        if (xhr.status === 401) { location.href = '/signin'; reject(new Error('signed out')); return; }
        let json = null;
        try { json = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch (e) { /* not JSON: said below */ }
        if (xhr.status >= 200 && xhr.status < 300 && json) { resolve(json); return; }
        const e = json && json.errors && json.errors[0];
        reject(new Error(e ? e.code + ': ' + e.message : 'HTTP ' + xhr.status));
      });
      xhr.addEventListener('error', () => reject(new Error('the upload failed: the connection was lost')));
      xhr.send(file);
    });
  }

  async function importArchive(event) {
    event.preventDefault();
    const file = $('import-file').files[0];
    if (!file) return;
    const bar = $('import-progress');
    const progress = (fraction) => {
      bar.value = Math.round(1000 * fraction);
      $('import-percent').textContent = Math.floor(100 * fraction) + '%';
    };
    bar.hidden = false;
    progress(0);
    $('import-result').replaceChildren();
    $('import').disabled = true;
    status('Uploading ' + file.name + ' (' + bytes(file.size) + ')…');
    try {
      const { images } = await upload(file, progress);
      progress(1);
      $('import-result').replaceChildren(...images.map((i) => h('li', { dataset: { imported: i.name + (i.tag ? ':' + i.tag : '') } },
        h('strong', {}, i.name + (i.tag ? ':' + i.tag : '')), ' ', h('code', { class: 'digest', title: i.digest }, i.digest),
        ' ', bytes(i.bytes))));
      status('Imported ' + images.length + (images.length === 1 ? ' image' : ' images') + ' from ' + file.name + '.');
    } finally {
      $('import').disabled = false;
    }
  }

  // ---------- Start ----------
  async function start() {
    const session = await api('/console/session');
    csrf = session.csrf;
    $('user').textContent = session.user;
    $('signout').addEventListener('click', async () => {
      await fetch('/signout', { method: 'POST', headers: { 'X-Regmirror-Csrf': csrf }, credentials: 'same-origin' });
      location.href = '/signin';
    });
    $('filter').addEventListener('input', () => {
      clearTimeout(filterDelay);
      filterDelay = setTimeout(() => {
        table.q = $('filter').value.trim();
        table.offset = 0;
        loadImages().catch((e) => status(e.message, true));
      }, 200);
    });
    for (const b of document.querySelectorAll('th button[data-sort]')) {
      b.addEventListener('click', () => {
        if (table.sort === b.dataset.sort) table.order = table.order === 'asc' ? 'desc' : 'asc';
        else { table.sort = b.dataset.sort; table.order = b.dataset.sort === 'repository' || b.dataset.sort === 'tag' ? 'asc' : 'desc'; }
        table.offset = 0;
        loadImages().catch((e) => status(e.message, true));
      });
    }
    $('prev').addEventListener('click', () => { table.offset = Math.max(0, table.offset - table.n); loadImages().catch((e) => status(e.message, true)); });
    $('next').addEventListener('click', () => { table.offset += table.n; loadImages().catch((e) => status(e.message, true)); });
    $('range').addEventListener('change', () => loadOverview().catch((e) => status(e.message, true)));
    $('prefetch-form').addEventListener('submit', (e) => prefetch(e).catch((err) => status(err.message, true)));
    $('import-form').addEventListener('submit', (e) => importArchive(e).catch((err) => status(err.message, true)));
    $('owner-form').addEventListener('submit', (e) => findOwner(e).catch((err) => status(err.message, true)));
    $('prune').addEventListener('click', () => prune().catch((e) => status(e.message, true)));
    api('/admin/cluster').then(clusterNav).catch((e) => status(e.message, true));
    window.addEventListener('hashchange', () => show(location.hash.slice(1)));
    show(location.hash.slice(1));
  }

  start().catch((e) => status(e.message, true));
})();
