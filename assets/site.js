/* site.js - 311 Online's one script. Every page works without it: it only
 * adds to what the server sent (ES2017, no build step, no third-party code).
 *
 * - The report form and its review are sent with fetch: on a weak
 *   connection a failed send keeps the page as it is, everything typed
 *   still there, and says so (role=alert); an answer replaces the page (a
 *   redirect is followed). One send at a time.
 * - The location step (web_location.c): "Use my current location" (the
 *   browser asks permission first, only when pressed), a map to put a pin
 *   on where the server names a tile source (drag, arrow keys, zoom, click
 *   or Enter for the pin), and the open requests of the same service near
 *   the point, from the public Open311 search.
 * Texts come from data- attributes the server translated (web_t).
 */
(function () {
  'use strict';

  var NEARBY = '&radius=200&status=open&page_size=5'; /* as web_location.c */
  var TILE = 256;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  /* ---- sending a report form ---- */

  function reportForm(f) {
    return f instanceof HTMLFormElement && /^post$/i.test(f.getAttribute('method') || '') &&
      /^\/report\//.test(f.getAttribute('action') || '');
  }

  /* The button that sent a form, where the browser does not say (e.submitter). */
  var clicked = null;
  document.addEventListener('click', function (e) {
    var b = e.target instanceof Element && e.target.closest('button, input[type=submit]');
    if (b && b.form && b.type === 'submit') clicked = b;
  }, true);

  function message(form, role, text) {
    var old = form.querySelector('.send-msg');
    if (old) old.remove();
    if (!text) return;
    var alert = role === 'alert';
    var m = el(alert ? 'div' : 'p', alert ? 'send-msg notice error' : 'send-msg', text);
    m.setAttribute('role', role);
    var at = form.querySelector('.actions');
    form.insertBefore(m, at && at.parentNode === form ? at : null);
  }

  /* The server's answer in place of the page, enhanced again. */
  function show(html) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    document.title = doc.title;
    document.documentElement.lang = doc.documentElement.lang;
    document.body.replaceWith(document.adoptNode(doc.body));
    enhance(document);
    /* As after a navigation: the top of the page; focus where a screen
     * reader should start reading (the problem, else main). */
    window.scrollTo(0, 0);
    var target = document.getElementById('problem') || document.querySelector('main');
    if (target) {
      if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
      target.focus({ preventScroll: true });
    }
  }

  function onSubmit(e) {
    var form = e.target;
    if (!reportForm(form) || typeof fetch !== 'function' || e.defaultPrevented) return;
    if (form.dataset.sending) { /* one send at a time */
      e.preventDefault();
      return;
    }
    var sub = e.submitter || (clicked && clicked.form === form ? clicked : null);
    /* Which of several named buttons was pressed matters (review: send or
     * change): unknown, the browser sends the form itself. */
    if (!sub && form.querySelector('button[name], input[type=submit][name]')) return;
    e.preventDefault();
    var data = new FormData(form);
    if (sub && sub.name) data.append(sub.name, sub.value);
    var multipart = form.enctype === 'multipart/form-data';
    form.dataset.sending = '1';
    form.setAttribute('aria-busy', 'true');
    message(form, 'status', document.body.dataset.msgSending);
    var done = function () {
      delete form.dataset.sending;
      form.removeAttribute('aria-busy');
    };
    var body = multipart ? data : new URLSearchParams(data);
    fetch(form.getAttribute('action'), { method: 'POST', body: body, credentials: 'same-origin' })
      .then(function (res) {
        if (res.redirected) {
          location.assign(res.url);
          return null;
        }
        if (!/^text\/html/i.test(res.headers.get('Content-Type') || '')) {
          /* Not a page (the HTTP layer's own refusal): let the browser show it. */
          done();
          if (sub && sub.name) {
            var h = el('input');
            h.type = 'hidden';
            h.name = sub.name;
            h.value = sub.value;
            form.appendChild(h);
          }
          HTMLFormElement.prototype.submit.call(form);
          return null;
        }
        return res.text().then(show);
      })
      .catch(function () {
        done();
        message(form, 'alert', document.body.dataset.msgOffline);
      });
  }

  /* ---- the map (a slippy map of <img> tiles, Web Mercator) ---- */

  function project(lat, lon, z) {
    var n = TILE * Math.pow(2, z);
    var s = Math.sin(Math.max(-85.0511, Math.min(85.0511, lat)) * Math.PI / 180);
    return { x: (lon + 180) / 360 * n, y: (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n };
  }

  function unproject(x, y, z) {
    var n = TILE * Math.pow(2, z);
    var lon = x / n * 360 - 180;
    lon = ((lon + 180) % 360 + 360) % 360 - 180;
    return { lat: Math.atan(Math.sinh(Math.PI * (1 - 2 * y / n))) * 180 / Math.PI, lon: lon };
  }

  function makeMap(box, fs, onPin) {
    var d = fs.dataset;
    var z = Math.max(1, Math.min(19, parseInt(d.zoom, 10) || 15));
    var c = project(parseFloat(d.lat), parseFloat(d.long), z);
    var pin = null;
    var tiles = new Map();
    var hint = el('p', 'hint', d.msgMapHelp);
    hint.id = 'map-help';
    var view = el('div', 'map');
    view.tabIndex = 0;
    view.setAttribute('role', 'application');
    view.setAttribute('aria-label', d.msgMap);
    view.setAttribute('aria-describedby', 'map-help');
    var layer = el('div', 'map-tiles');
    var pinEl = el('div', 'map-pin');
    pinEl.hidden = true;
    view.append(layer, pinEl, el('div', 'map-cross'));
    var tools = el('div', 'map-tools');
    var zin = el('button', 'secondary', d.msgZoomIn);
    var zout = el('button', 'secondary', d.msgZoomOut);
    zin.type = zout.type = 'button';
    tools.append(zin, zout);
    box.prepend(hint, view, tools);
    box.hidden = false;

    function url(x, y) {
      return d.tiles.split('{z}').join(z).split('{x}').join(x).split('{y}').join(y);
    }

    function render() {
      var w = view.clientWidth, h = view.clientHeight, n = Math.pow(2, z);
      c.y = Math.max(0, Math.min(n * TILE, c.y));
      var left = c.x - w / 2, top = c.y - h / 2, want = new Set();
      for (var ty = Math.floor(top / TILE); ty * TILE < top + h; ty++) {
        if (ty < 0 || ty >= n) continue;
        for (var tx = Math.floor(left / TILE); tx * TILE < left + w; tx++) {
          var key = z + '/' + tx + '/' + ty;
          var img = tiles.get(key);
          want.add(key);
          if (!img) {
            img = el('img', 'map-tile');
            img.alt = '';
            img.draggable = false;
            img.src = url(((tx % n) + n) % n, ty);
            layer.appendChild(img);
            tiles.set(key, img);
          }
          img.style.transform = 'translate(' + Math.round(tx * TILE - left) + 'px,' +
            Math.round(ty * TILE - top) + 'px)';
        }
      }
      tiles.forEach(function (img, key) {
        if (!want.has(key)) {
          img.remove();
          tiles.delete(key);
        }
      });
      pinEl.hidden = !pin;
      if (pin) {
        var p = project(pin.lat, pin.lon, z);
        /* The nearest copy of the world to the view (it wraps sideways). */
        var world = n * TILE;
        var px = p.x + Math.round((c.x - p.x) / world) * world;
        pinEl.style.transform = 'translate(' + Math.round(px - left) + 'px,' +
          Math.round(p.y - top) + 'px)';
      }
    }

    function zoom(by) {
      var nz = Math.max(1, Math.min(19, z + by));
      if (nz === z) return;
      var ll = unproject(c.x, c.y, z);
      z = nz;
      c = project(ll.lat, ll.lon, z);
      render();
    }

    /* Puts the pin at world pixel (x, y) of the current zoom. */
    function drop(x, y) {
      pin = unproject(x, y, z);
      render();
      onPin(pin.lat, pin.lon);
    }

    var drag = null;
    view.addEventListener('pointerdown', function (e) {
      if (e.button !== 0) return;
      drag = { x: e.clientX, y: e.clientY, cx: c.x, cy: c.y, moved: false };
      view.setPointerCapture(e.pointerId);
    });
    view.addEventListener('pointermove', function (e) {
      if (!drag) return;
      var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 5) drag.moved = true;
      if (!drag.moved) return;
      c.x = drag.cx - dx;
      c.y = drag.cy - dy;
      render();
    });
    view.addEventListener('pointerup', function (e) {
      var d0 = drag;
      drag = null;
      if (!d0 || d0.moved) return;
      var r = view.getBoundingClientRect();
      drop(c.x - view.clientWidth / 2 + (e.clientX - r.left - view.clientLeft),
           c.y - view.clientHeight / 2 + (e.clientY - r.top - view.clientTop));
    });
    view.addEventListener('pointercancel', function () { drag = null; });
    view.addEventListener('keydown', function (e) {
      var step = e.shiftKey ? TILE : 64;
      var k = e.key;
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if (k === 'ArrowLeft') c.x -= step;
      else if (k === 'ArrowRight') c.x += step;
      else if (k === 'ArrowUp') c.y -= step;
      else if (k === 'ArrowDown') c.y += step;
      else if (k === '+' || k === '=') zoom(1);
      else if (k === '-' || k === '_') zoom(-1);
      else if (k === 'Enter' || k === ' ') drop(c.x, c.y);
      else return;
      e.preventDefault();
      render();
    });
    zin.addEventListener('click', function () { zoom(1); });
    zout.addEventListener('click', function () { zoom(-1); });
    window.addEventListener('resize', function resized() {
      if (view.isConnected) render();
      else window.removeEventListener('resize', resized); /* the page was replaced */
    });
    render();
    return {
      /* The pin at (lat, lon), in the middle of the view, close enough to see. */
      place: function (lat, lon) {
        pin = { lat: lat, lon: lon };
        if (z < 16) z = 16;
        c = project(lat, lon, z);
        render();
      },
    };
  }

  /* ---- the location step ---- */

  function number(input, min, max) {
    var s = input.value.trim();
    var v = Number(s);
    return s !== '' && isFinite(v) && v >= min && v <= max ? v : null;
  }

  function enhanceLocation(fs) {
    if (fs.dataset.enhanced) return;
    fs.dataset.enhanced = '1';
    var d = fs.dataset;
    var lat = fs.querySelector('input[name="lat"]');
    var lon = fs.querySelector('input[name="long"]');
    var point = fs.querySelector('.point');
    if (!lat || !lon || !point) return;
    var status = el('p', 'locate-status');
    status.setAttribute('role', 'status');
    var list = el('div', 'nearby');
    list.setAttribute('aria-live', 'polite');
    point.after(list);
    var map = null;
    var asked = 0;

    function nearby() {
      var a = number(lat, -90, 90), o = number(lon, -180, 180);
      var seq = ++asked;
      if (a === null || o === null) {
        list.textContent = '';
        return;
      }
      fetch('/open311/v2/requests.json?service_code=' + encodeURIComponent(d.service) +
            '&lat=' + a + '&long=' + o + NEARBY, { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (found) {
          if (seq === asked) showNearby(Array.isArray(found) ? found : []);
        })
        .catch(function () { /* only a help: the report goes on without it */ });
    }

    function showNearby(found) {
      list.textContent = '';
      found = found.filter(function (r) { return /^[1-9][0-9]*$/.test(r.service_request_id); });
      if (found.length === 0) return;
      var ul = el('ul');
      var when = new Intl.DateTimeFormat(document.documentElement.lang,
        { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
          hourCycle: 'h23', timeZone: 'UTC' });
      found.slice(0, 5).forEach(function (r) {
        var li = el('li');
        var a = el('a', null, d.msgRequest + ' ' + r.service_request_id);
        a.href = '/requests/' + r.service_request_id;
        li.append(a);
        var t = new Date(r.requested_datetime);
        if (!isNaN(t)) li.append(el('span', 'when', when.format(t) + ' UTC'));
        var text = Array.from(r.description || '');
        if (text.length) {
          li.append(el('span', 'what', text.length > 140 ? text.slice(0, 140).join('') + '\u2026'
                                                         : text.join('')));
        }
        if (r.address) li.append(el('span', 'where', r.address));
        ul.append(li);
      });
      list.append(el('h2', null, d.msgNearby), el('p', 'hint', d.msgNearbyHint), ul);
    }

    function setPoint(a, o) {
      lat.value = a.toFixed(6);
      lon.value = o.toFixed(6);
      nearby();
    }

    if (navigator.geolocation) {
      var locate = el('div', 'locate');
      var button = el('button', 'secondary', d.msgLocate);
      button.type = 'button';
      locate.append(button, status);
      var address = fs.querySelector('.field');
      if (address) address.after(locate);
      button.addEventListener('click', function () {
        status.textContent = d.msgLocating;
        navigator.geolocation.getCurrentPosition(function (pos) {
          setPoint(pos.coords.latitude, pos.coords.longitude);
          if (map) map.place(pos.coords.latitude, pos.coords.longitude);
          status.textContent = d.msgLocated;
        }, function (err) {
          status.textContent = err.code === 1 ? d.msgDenied : d.msgUnavailable;
        }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
      });
    }

    var box = fs.querySelector('.map-box');
    if (box && d.tiles) {
      map = makeMap(box, fs, function (a, o) {
        setPoint(a, o);
        status.textContent = d.msgPinned;
      });
      if (!status.parentNode) box.append(status);
    }

    function typed() {
      var a = number(lat, -90, 90), o = number(lon, -180, 180);
      if (map && a !== null && o !== null) map.place(a, o);
      nearby();
    }
    lat.addEventListener('change', typed);
    lon.addEventListener('change', typed);
    if (lat.value || lon.value) typed();
  }

  function enhance(root) {
    root.querySelectorAll('fieldset.location').forEach(enhanceLocation);
    countView();
  }

  // ---- the page view, counted in aggregate (P9; web_beacon.c) ----
  // Only the kind of page the server named in <body data-page> is sent:
  // no address, no identifier. The server keeps a total per kind and day.
  function countView() {
    var kind = document.body && document.body.dataset.page;
    if (kind && navigator.sendBeacon)
      navigator.sendBeacon('/beacon', kind);
  }

  document.addEventListener('submit', onSubmit);
  enhance(document);
})();
