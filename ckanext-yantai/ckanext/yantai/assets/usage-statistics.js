/*
 * The usage statistics page's charts (webasset yantai/usage-statistics: ECharts, charts.js, this).
 *
 * Reads <script type="application/json" id="yantai-usage-data">:
 *   {labels: {views, downloads, api_calls, trend, departments, domains},
 *    trend: [{month, views, downloads, api_calls}], departments: [{title, url, views, ...}],
 *    domains: [{title, url, views, ...}]}
 * and draws #yantai-usage-trend (views, downloads and API calls per month),
 * #yantai-usage-departments and #yantai-usage-domains (stacked horizontal bars, the largest
 * first, at most 15). The page's tables carry the same figures for readers without scripts.
 */
(() => {
  'use strict';

  const {start, draw, cursor} = window.yantaiCharts;
  const COLORS = {views: '#2f5aa8', downloads: '#3a8a3f', api_calls: '#e0a100'};
  const KINDS = ['views', 'downloads', 'api_calls'];
  const ROW_HEIGHT = 30;  // of a horizontal bar

  const describe = (title, items, name, label) => `${title}: ${items.map((d) =>
    `${name(d)}: ${KINDS.map((k) => `${label(k)} ${d[k]}`).join(', ')}`).join('; ')}`;

  const trendChart = (data, label) => {
    const items = data.trend || [];
    return draw('yantai-usage-trend', items, {
      option: {
        tooltip: {trigger: 'axis'},
        legend: {top: 0},
        grid: {top: 40, left: 8, right: 8, bottom: 8, containLabel: true},
        xAxis: {type: 'category', data: items.map((m) => m.month)},
        yAxis: {type: 'value', minInterval: 1},
        series: KINDS.map((k) => ({
          name: label(k), type: 'line', symbolSize: 6, itemStyle: {color: COLORS[k]},
          data: items.map((m) => m[k]),
        })),
      },
      ariaLabel: describe(label('trend'), items, (m) => m.month, label),
    });
  };

  const barsChart = (id, title, data, label) => {
    const items = (data || []).slice(0, 15).reverse();  // the largest on top
    return draw(id, items, {
      option: {
        tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}},
        legend: {top: 0},
        grid: {top: 40, left: 8, right: 24, bottom: 8, containLabel: true},
        xAxis: {type: 'value', minInterval: 1, axisLabel: {hideOverlap: true}},
        yAxis: {type: 'category', data: items.map((d) => d.title),
                axisLabel: {width: 160, overflow: 'truncate'}},
        series: KINDS.map((k) => ({
          name: label(k), type: 'bar', stack: 'usage', barMaxWidth: 18, cursor: cursor(items),
          itemStyle: {color: COLORS[k]}, data: items.map((d) => d[k]),
        })),
      },
      ariaLabel: describe(title, items.slice().reverse(), (d) => d.title, label),
      height: 64 + ROW_HEIGHT * items.length,
    });
  };

  start('yantai-usage-data', (data, label) => [
    trendChart(data, label),
    barsChart('yantai-usage-departments', label('departments'), data.departments, label),
    barsChart('yantai-usage-domains', label('domains'), data.domains, label),
  ]);
})();
