/* Fernhill Outfitters: renders the demo shop from window.CATALOG and reports commerce events to Trailmark. */
(function () {
  "use strict";
  var C = window.CATALOG;
  var CART_KEY = "fernhill_cart";
  var ORDERS_KEY = "fernhill_orders";
  var COUPON_KEY = "fernhill_coupon";
  var COUPON = "TRAIL10";  // 10% off the goods; shipping is decided by the subtotal before it
  var $ = function (id) { return document.getElementById(id); };
  // the stub from the snippet queues calls until trailmark.js has loaded, so calls never wait for it
  var tm = function () { window.trailmark.apply(null, arguments); };

  function money(v) { return "\u20ac" + v.toFixed(2); }
  function esc(s) { return String(s).replace(/[&<>"']/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function product(slug) { return C.products.filter(function (p) { return p.slug === slug; })[0]; }
  function category(slug) { return C.categories.filter(function (c) { return c.slug === slug; })[0]; }
  function lastSegment() { return location.pathname.replace(/\/+$/, "").split("/").pop(); }

  function load(key) {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function save(key, v) { localStorage.setItem(key, JSON.stringify(v)); }
  function cart() { return load(CART_KEY); }
  function cartTotal(lines) { return lines.reduce(function (s, l) { return s + l.price * l.qty; }, 0); }
  function shipping(subtotal) { return subtotal === 0 || subtotal >= 100 ? 0 : 4.95; }
  function round2(v) { return Math.round(v * 100) / 100; }
  /** The applied code's discount on this subtotal: kept with the cart, so checkout charges what the cart showed. */
  function discountOn(sub) { return localStorage.getItem(COUPON_KEY) === COUPON ? round2(sub * 0.1) : 0; }
  function orderTotal(sub) { return round2(Math.max(0, sub - discountOn(sub)) + shipping(sub)); }
  /** The item shape of the wire protocol (sku, name, price, qty, currency, category). */
  function item(line, qty) {
    return { sku: line.sku, name: line.name, price: line.price, qty: qty || line.qty, currency: C.currency, category: line.category };
  }
  function updateBadge() {
    var n = cart().reduce(function (s, l) { return s + l.qty; }, 0);
    $("cart-count").textContent = n;
  }

  var SHAPES = {
    jacket: '<path d="M70 30 L100 22 L130 30 L162 56 L172 132 L152 134 L138 88 L136 160 L64 160 L62 88 L48 134 L28 132 L38 56 Z" fill="C"/><path d="M100 22 L100 160" stroke="rgba(0,0,0,.25)" stroke-width="3"/><path d="M86 26 L100 44 L114 26" fill="none" stroke="rgba(0,0,0,.3)" stroke-width="3"/>',
    shoe: '<path d="M34 120 C34 96 54 92 70 92 L96 70 C110 82 124 90 146 96 C162 100 170 110 170 124 L170 132 L34 132 Z" fill="C"/><rect x="32" y="130" width="140" height="10" rx="4" fill="#2b2b2b"/><path d="M84 86 L100 96 M92 78 L108 90" stroke="#fff" stroke-width="3"/>',
    boot: '<path d="M60 40 L104 40 L106 104 C130 106 156 112 166 126 L166 136 L56 136 Z" fill="C"/><rect x="54" y="134" width="114" height="10" rx="4" fill="#2b2b2b"/><path d="M80 56 L98 56 M80 70 L98 70 M80 84 L98 84" stroke="#f4e6cc" stroke-width="3"/>',
    pack: '<rect x="58" y="36" width="84" height="116" rx="24" fill="C"/><rect x="72" y="94" width="56" height="40" rx="8" fill="rgba(0,0,0,.18)"/><path d="M80 36 C80 18 120 18 120 36" fill="none" stroke="#333" stroke-width="5"/>',
    duffel: '<rect x="30" y="70" width="140" height="70" rx="30" fill="C"/><path d="M70 70 C70 46 130 46 130 70" fill="none" stroke="#333" stroke-width="6"/><path d="M40 104 L160 104" stroke="rgba(0,0,0,.25)" stroke-width="3"/>',
    cap: '<path d="M50 110 C50 60 150 60 150 110 Z" fill="C"/><path d="M120 106 C150 104 176 110 180 120 L126 120 Z" fill="C" stroke="rgba(0,0,0,.25)" stroke-width="2"/><circle cx="100" cy="64" r="5" fill="rgba(0,0,0,.3)"/>',
    bottle: '<rect x="76" y="48" width="48" height="110" rx="14" fill="C"/><rect x="84" y="28" width="32" height="24" rx="5" fill="#333"/><rect x="76" y="86" width="48" height="20" fill="rgba(255,255,255,.25)"/>',
    beanie: '<path d="M46 120 C46 58 154 58 154 120 Z" fill="C"/><rect x="42" y="112" width="116" height="26" rx="6" fill="C" stroke="rgba(0,0,0,.2)" stroke-width="3"/><circle cx="100" cy="52" r="12" fill="C" stroke="rgba(0,0,0,.15)" stroke-width="3"/>'
  };
  function art(p, hex, size) {
    return '<svg viewBox="0 0 200 170" width="' + size + '" role="img" aria-label="' + esc(p.name) + '">' +
      SHAPES[p.shape].replace(/"C"/g, '"' + (hex || p.colours[0].hex) + '"') + "</svg>";
  }
  function card(p, where) {
    var dots = p.colours.map(function (c) { return '<span class="dot" style="background:' + c.hex + '"></span>'; }).join("");
    return '<a class="card" href="/demo/product/' + p.slug + '" data-testid="' + where + "-" + p.slug + '">' +
      '<div class="art">' + art(p, null, "70%") + '</div><div class="body"><div class="name">' + esc(p.name) + "</div>" +
      '<div class="meta"><span>' + money(p.price) + '</span><span class="dots">' + dots + "</span></div></div></a>";
  }

  var pages = {};

  pages.home = function () {
    $("category-tiles").innerHTML = C.categories.map(function (c) {
      return '<a class="tile" href="/demo/category/' + c.slug + '" data-testid="tile-' + c.slug + '"><strong>' + esc(c.name) + "</strong><span>" + esc(c.blurb) + "</span></a>";
    }).join("");
    var best = ["storm-shell-jacket", "fellrunner-shoe", "daypack-22", "insulated-bottle"];
    $("featured").innerHTML = best.map(function (s) { return card(product(s), "featured"); }).join("");
  };

  pages.category = function () {
    var cat = category(lastSegment());
    if (!cat) { $("category-title").textContent = "Unknown category"; return; }
    document.title = cat.name + " \u00b7 Fernhill Outfitters";
    $("crumb-category").textContent = cat.name;
    $("category-title").textContent = cat.name;
    $("category-blurb").textContent = cat.blurb;
    var list = C.products.filter(function (p) { return p.category === cat.slug; });
    var render = function () {
      var order = $("sort-select").value;
      var sorted = list.slice().sort(function (a, b) {
        return order === "price-asc" ? a.price - b.price : order === "price-desc" ? b.price - a.price : 0;
      });
      $("product-grid").innerHTML = sorted.map(function (p) { return card(p, "product"); }).join("");
    };
    $("sort-select").addEventListener("change", render);
    render();
  };

  pages.product = function () {
    var p = product(lastSegment());
    if (!p) { $("product-name").textContent = "Product not found"; $("add-to-cart").disabled = true; return; }
    var cat = category(p.category);
    document.title = p.name + " \u00b7 Fernhill Outfitters";
    $("crumb-category").textContent = cat.name;
    $("crumb-category").href = "/demo/category/" + cat.slug;
    $("crumb-product").textContent = p.name;
    $("product-name").textContent = p.name;
    $("product-price").textContent = money(p.price);
    $("product-blurb").textContent = p.blurb;
    var colour = p.colours[0];
    // one-size products need no choice; others make the shopper pick, as real shops do
    var size = p.sizes.length === 1 ? p.sizes[0] : null;
    var paint = function () {
      $("product-image").innerHTML = art(p, colour.hex, "80%");
      $("colour-name").textContent = colour.name;
      Array.prototype.forEach.call(document.querySelectorAll(".swatch"), function (b) { b.setAttribute("aria-pressed", b.dataset.colour === colour.name); });
      Array.prototype.forEach.call(document.querySelectorAll(".size"), function (b) { b.setAttribute("aria-pressed", b.dataset.size === size); });
    };
    $("colour-options").innerHTML = p.colours.map(function (c, i) {
      return '<button type="button" class="swatch" id="colour-' + (i + 1) + '" data-testid="colour-' + c.name.toLowerCase() + '" data-colour="' + esc(c.name) + '" style="background:' + c.hex + '" title="' + esc(c.name) + '"></button>';
    }).join("");
    $("size-options").innerHTML = p.sizes.map(function (s, i) {
      return '<button type="button" class="size" id="size-' + (i + 1) + '" data-testid="size-' + esc(s.replace(/\s+/g, "").toLowerCase()) + '" data-size="' + esc(s) + '">' + esc(s) + "</button>";
    }).join("");
    $("colour-options").addEventListener("click", function (e) {
      var b = e.target.closest(".swatch");
      if (b) { colour = p.colours.filter(function (c) { return c.name === b.dataset.colour; })[0]; paint(); }
    });
    $("size-options").addEventListener("click", function (e) {
      var b = e.target.closest(".size");
      if (b) { size = b.dataset.size; $("add-notice").textContent = ""; paint(); }
    });
    $("add-to-cart").addEventListener("click", function () {
      var notice = $("add-notice");
      if (!size) { notice.className = "notice error"; notice.textContent = "Please choose a size"; return; }
      var qty = Math.max(1, Math.min(9, parseInt($("qty-input").value, 10) || 1));
      var sku = [p.sku, colour.name, size].join("-").toUpperCase().replace(/[^A-Z0-9.-]+/g, "");
      var lines = cart();
      var line = lines.filter(function (l) { return l.sku === sku; })[0];
      if (line) line.qty += qty;
      else lines.push(line = { sku: sku, slug: p.slug, name: p.name + " (" + colour.name + ", " + size + ")", price: p.price, qty: qty, category: cat.name, hex: colour.hex });
      save(CART_KEY, lines);
      tm("cart.add", item(line, qty));
      updateBadge();
      notice.className = "notice";
      notice.innerHTML = "Added to your cart. <a href=\"/demo/cart\" data-testid=\"view-cart\">View cart</a>";
    });
    paint();
    $("related").innerHTML = C.products.filter(function (o) { return o.category === p.category && o.slug !== p.slug; })
      .map(function (o) { return card(o, "related"); }).join("");
  };

  pages.search = function () {
    var q = (new URLSearchParams(location.search).get("q") || "").trim();
    $("search-input").value = q;
    var words = q.toLowerCase().split(/\s+/).filter(Boolean);
    var hits = C.products.filter(function (p) {
      var text = (p.name + " " + p.category + " " + p.blurb).toLowerCase();
      return words.length && words.every(function (w) { return text.indexOf(w) >= 0; });
    });
    $("search-title").textContent = q ? "Results for \u201c" + q + "\u201d" : "Search";
    $("search-summary").textContent = hits.length + (hits.length === 1 ? " product" : " products");
    $("search-results").innerHTML = hits.map(function (p) { return card(p, "result"); }).join("") ||
      '<div class="empty">Nothing matched. Try \u201cjacket\u201d, \u201cshoe\u201d or \u201cpack\u201d.</div>';
    if (q) tm("track", "search", { query: q.slice(0, 100), results: hits.length });
  };

  pages.cart = function () {
    var render = function () {
      var lines = cart();
      $("cart-lines").innerHTML = lines.length ? lines.map(function (l, i) {
        var p = product(l.slug);
        return '<div class="line" data-testid="cart-line-' + i + '"><div class="art">' + art(p, l.hex, "80") + "</div>" +
          "<div><strong>" + esc(l.name) + '</strong><div class="muted">' + money(l.price) + ' each</div>' +
          '<div class="controls"><button type="button" data-act="dec" data-i="' + i + '" data-testid="dec-' + i + '" aria-label="One less">\u2212</button>' +
          '<span data-testid="qty-' + i + '">' + l.qty + '</span><button type="button" data-act="inc" data-i="' + i + '" data-testid="inc-' + i + '" aria-label="One more">+</button></div></div>' +
          '<div><strong>' + money(l.price * l.qty) + '</strong><br><button type="button" class="remove" data-act="remove" data-i="' + i + '" data-testid="remove-' + i + '">Remove</button></div></div>';
      }).join("") : '<div class="empty" data-testid="cart-empty">Your cart is empty. <a href="/demo/">Find something you like</a>.</div>';
      var sub = cartTotal(lines);
      $("cart-subtotal").textContent = money(sub);
      $("cart-shipping").textContent = money(shipping(sub));
      var discount = discountOn(sub);
      $("cart-discount-row").hidden = !discount;
      $("cart-discount").textContent = "\u2212" + money(discount);
      $("cart-total").textContent = money(orderTotal(sub));
      $("go-checkout").hidden = !lines.length;
      updateBadge();
    };
    $("cart-lines").addEventListener("click", function (e) {
      var b = e.target.closest("button[data-act]");
      if (!b) return;
      var lines = cart();
      var i = +b.dataset.i;
      var l = lines[i];
      if (b.dataset.act === "inc") { l.qty += 1; tm("cart.add", item(l, 1)); }
      else {
        var n = b.dataset.act === "remove" ? l.qty : 1;
        tm("cart.remove", item(l, n));
        l.qty -= n;
        if (l.qty <= 0) lines.splice(i, 1);
      }
      save(CART_KEY, lines);
      render();
    });
    $("coupon-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var code = $("coupon-input").value.trim().toUpperCase();
      var notice = $("coupon-notice");
      // only one code works: shoppers who found an expired code elsewhere click "Apply" again and again
      if (code === COUPON) { localStorage.setItem(COUPON_KEY, COUPON); notice.className = "notice"; notice.textContent = "10% off applied"; }
      else { notice.className = "notice error"; notice.textContent = code ? "This code is not valid" : ""; }
      render();
    });
    render();
  };

  pages.checkout = function () {
    var lines = cart();
    if (!lines.length) { location.replace("/demo/cart"); return; }
    var sub = cartTotal(lines);
    var discount = discountOn(sub);
    var total = orderTotal(sub);
    $("checkout-summary").innerHTML = "<h2>Order summary</h2>" + lines.map(function (l) {
      return '<div class="row"><span>' + l.qty + " \u00d7 " + esc(l.name) + "</span><span>" + money(l.price * l.qty) + "</span></div>";
    }).join("") + (discount ? '<div class="row"><span>Discount (' + COUPON + ')</span><span data-testid="checkout-discount">\u2212' + money(discount) + "</span></div>" : "") +
      '<div class="row muted"><span>Shipping</span><span>' + money(shipping(sub)) + '</span></div>' +
      '<div class="row total"><span>Total</span><strong data-testid="checkout-total">' + money(total) + "</strong></div>";
    var items = lines.map(function (l) { return item(l); });
    tm("checkout", { items: items, value: total, currency: C.currency });
    $("checkout-form").addEventListener("submit", function (e) {
      e.preventDefault();
      $("place-order").disabled = true;
      var order = "FH-" + Date.now().toString(36).toUpperCase() + Math.floor(Math.random() * 1296).toString(36).toUpperCase();
      // a customer id from the e-mail (a short hash, not the address): orders link to one person
      var h = 5381, email = $("email").value.trim().toLowerCase();
      for (var i = 0; i < email.length; i++) h = ((h * 33) ^ email.charCodeAt(i)) >>> 0;
      tm("identify", "cust-" + h.toString(16), { orders: load(ORDERS_KEY).length + 1 });
      tm("purchase", { order_id: order, value: total, currency: C.currency, items: items });
      var orders = load(ORDERS_KEY);
      orders.unshift({ id: order, value: total, items: lines.length, at: new Date().toISOString().slice(0, 10) });
      save(ORDERS_KEY, orders.slice(0, 20));
      save(CART_KEY, []);
      localStorage.removeItem(COUPON_KEY);  // a code is for one order
      var go = function () { location.href = "/demo/thanks?order=" + encodeURIComponent(order); };
      // send the purchase before leaving; the snippet also flushes on pagehide, this only makes it prompt
      var sent = window.trailmark.flush ? window.trailmark.flush() : null;
      if (sent && sent.then) { sent.then(go, go); setTimeout(go, 1500); } else setTimeout(go, 300);
    });
  };

  function scale(el, lo, hi, prefix, onPick) {
    var html = "";
    for (var i = lo; i <= hi; i++) html += '<button type="button" id="' + prefix + "-" + i + '" data-testid="' + prefix + "-" + i + '" data-score="' + i + '">' + i + "</button>";
    el.innerHTML = html;
    el.addEventListener("click", function (e) {
      var b = e.target.closest("button[data-score]");
      if (!b || el.dataset.done) return;
      el.dataset.done = "1";
      b.setAttribute("aria-pressed", "true");
      onPick(+b.dataset.score);
    });
  }

  pages.thanks = function () {
    $("order-id").textContent = new URLSearchParams(location.search).get("order") || "";
    scale($("nps-scale"), 0, 10, "nps", function (score) {
      var comment = $("nps-comment").value.trim();
      tm("survey", "nps", score, { survey_id: "post-purchase", comment: comment || undefined });
      $("nps-thanks").textContent = "Thanks for telling us!";
    });
  };

  pages.help = function () {
    scale($("ces-scale"), 1, 5, "ces", function (score) {
      tm("survey", "ces", score, { survey_id: "help-centre" });
      $("ces-thanks").textContent = "Thanks, that helps us improve the help centre.";
    });
  };

  pages.support = function () {
    $("support-form").addEventListener("submit", function (e) {
      e.preventDefault();
      var ticket = "T-" + (1000 + Math.floor(Math.random() * 9000));
      tm("track", "support_request", { topic: $("support-topic").value, ticket: ticket });
      $("support-form").hidden = true;
      $("csat-survey").hidden = false;
      $("ticket").textContent = "Message sent: ticket " + ticket + ". We usually answer within a few hours.";
    });
    scale($("csat-scale"), 1, 5, "csat", function (score) {
      tm("survey", "csat", score, { survey_id: "support", scale: 5 });
      $("csat-thanks").textContent = "Thank you for your feedback.";
    });
  };

  /** The account area is a single-page app: tabs change the URL with history.pushState, not page loads. */
  pages.account = function () {
    var views = {
      "": function () {
        var n = load(ORDERS_KEY).length;
        return "<h1>Welcome back</h1><p>You have " + n + " order" + (n === 1 ? "" : "s") + ' with us. <a href="/demo/account/orders" data-route="orders" data-testid="overview-orders">See your orders</a>.</p>';
      },
      orders: function () {
        var orders = load(ORDERS_KEY);
        return "<h1>Orders</h1>" + (orders.length ? "<table><tr><th>Order</th><th>Date</th><th>Items</th><th>Total</th></tr>" + orders.map(function (o) {
          return "<tr><td>" + esc(o.id) + "</td><td>" + esc(o.at) + "</td><td>" + o.items + "</td><td>" + money(o.value) + "</td></tr>";
        }).join("") + "</table>" : '<p class="empty" data-testid="no-orders">No orders yet.</p>');
      },
      wishlist: function () {
        return '<h1>Wishlist</h1><div class="grid">' + ["ridge-down-parka", "summit-hiking-boot"].map(function (s) { return card(product(s), "wish"); }).join("") + "</div>";
      },
      profile: function () {
        return '<h1>Profile</h1><p class="muted">Signed in as a demo shopper. Newsletter: monthly.</p><button class="button ghost" type="button" id="save-profile" data-testid="save-profile">Save preferences</button>';
      }
    };
    var render = function (path) {
      var route = (path || location.pathname).replace(/^\/demo\/account\/?/, "").replace(/\/+$/, "");
      if (!views[route]) route = "";
      $("account-view").innerHTML = views[route]();
      Array.prototype.forEach.call(document.querySelectorAll("#account-tabs a"), function (a) {
        if (a.dataset.route === route) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
      });
      document.title = (route ? route[0].toUpperCase() + route.slice(1) : "Account") + " \u00b7 Fernhill Outfitters";
    };
    $("account").addEventListener("click", function (e) {
      var a = e.target.closest("a[data-route]");
      if (!a || e.metaKey || e.ctrlKey) return;
      e.preventDefault();
      if (a.pathname !== location.pathname) {
        // render first: the snippet records the pageview on pushState and reads the title then
        render(a.pathname);
        history.pushState({}, "", a.pathname);
      }
    });
    window.addEventListener("popstate", function () { render(); });
    render();
  };

  updateBadge();
  var page = pages[document.body.dataset.page];
  if (page) page();
})();
