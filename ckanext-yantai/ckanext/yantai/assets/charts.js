/*
 * What the portal's chart pages share (bundled after node_modules/echarts/dist/echarts.min.js and
 * before the page's script in the webassets compliance-dashboard and usage-statistics). Plain
 * ES2017, no build step.
 *
 * window.yantaiCharts:
 *   start(dataId, build): once the page is parsed, reads the JSON of <script id=dataId>, calls
 *     build(data, label) (label(key): the server-translated data.labels[key], else the key) and
 *     resizes the charts it returns with the window; nothing when ECharts or the data is missing.
 *   draw(id, items, {option, ariaLabel, height}): draws `option` into the element `id` as SVG with
 *     an accessible text; null when the element is missing or `items` empty (the page's text
 *     stays). An element without a height of its own gets `height` px (default 320). Clicking a
 *     datum with a `url` opens it.
 *   cursor(items): 'pointer' when a datum has a `url`.
 */
window.yantaiCharts = (() => {
  'use strict';

  const readData = (dataId) => {
    const node = document.getElementById(dataId);
    if (!node) return null;
    try {
      return JSON.parse(node.textContent);
    } catch (err) {
      console.error(`${dataId} is not valid JSON`, err);
      return null;
    }
  };

  const cursor = (items) => (items.some((item) => item.url) ? 'pointer' : 'default');

  const draw = (id, items, {option, ariaLabel, height = 320}) => {
    const el = document.getElementById(id);
    if (!el || !Array.isArray(items) || items.length === 0) return null;
    el.setAttribute('role', 'img');
    el.setAttribute('aria-label', ariaLabel);
    if (!el.clientHeight) el.style.height = `${height}px`;
    const chart = echarts.init(el, null, {renderer: 'svg'});
    chart.setOption(Object.assign({animation: false}, option));
    chart.on('click', 'series', (params) => {
      const item = items[params.dataIndex];
      if (item && item.url) window.location.assign(item.url);
    });
    return chart;
  };

  const run = (dataId, build) => {
    if (typeof echarts === 'undefined') return;
    const data = readData(dataId);
    if (!data) return;
    const labels = data.labels || {};
    const charts = build(data, (key) => labels[key] || key).filter(Boolean);
    if (charts.length === 0) return;
    let pending = false;
    window.addEventListener('resize', () => {
      if (pending) return;
      pending = true;
      window.requestAnimationFrame(() => {
        pending = false;
        charts.forEach((chart) => chart.resize());
      });
    });
  };

  // CKAN puts its scripts at the end of <body>: the document may be parsed already.
  const start = (dataId, build) => {
    if (document.readyState === 'loading') {
      document.addEventListener('DOMContentLoaded', () => run(dataId, build));
    } else {
      run(dataId, build);
    }
  };

  return {start, draw, cursor};
})();
