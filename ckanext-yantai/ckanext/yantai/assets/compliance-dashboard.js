/*
 * The compliance dashboard's charts (webasset yantai/compliance-dashboard: ECharts, charts.js,
 * this). Plain ES2017, no build step.
 *
 * Reads the page's data from <script type="application/json" id="yantai-compliance-data">:
 *   {labels: {...}, trend: [...], ranking: [...], late_by_days: [...], invalid_by_rule: [...]}
 * and draws each chart into its element (#yantai-chart-trend, -ranking, -late, -invalid). A chart
 * whose element is missing or whose data is empty is not drawn: the template's text fallback
 * stays. User-facing strings all come from `labels` (translated server-side): besides the field
 * names (records, on_time, late, overdue, on_time_rate) the chart titles `trend`, `ranking`,
 * `late_by_days`, `invalid_by_rule` and the axis names `days`, `count`. Clicking a bar whose datum
 * has a `url` opens it (drill-down).
 */
(() => {
  'use strict';

  const {start, draw, cursor} = window.yantaiCharts;
  const COLORS = {on_time: '#3a8a3f', late: '#e0a100', overdue: '#c23b22', rate: '#2f5aa8'};
  const ROW_HEIGHT = 28;  // of a horizontal bar, for elements the page left without a height

  const percent = (rate) => (rate == null ? '–' : `${Math.round(rate * 1000) / 10}%`);

  // The accessible text of a chart: its title, then one entry per datum.
  const describe = (title, entries) => `${title}: ${entries.join('; ')}`;

  const trendChart = (data, label) => {
    const items = data.trend || [];
    const bar = (key) => ({
      name: label(key), type: 'bar', stack: 'records', barMaxWidth: 32,
      itemStyle: {color: COLORS[key]}, cursor: cursor(items), data: items.map((m) => m[key]),
    });
    return draw('yantai-chart-trend', items, {
      option: {
        tooltip: {trigger: 'axis'},
        legend: {top: 0},
        grid: {top: 48, left: 8, right: 8, bottom: 8},
        xAxis: {type: 'category', data: items.map((m) => m.month)},
        yAxis: [
          {type: 'value', name: label('records'), minInterval: 1},
          {type: 'value', name: label('on_time_rate'), min: 0, max: 1, splitLine: {show: false},
           axisLabel: {formatter: percent}},
        ],
        series: [bar('on_time'), bar('late'), bar('overdue'), {
          name: label('on_time_rate'), type: 'line', yAxisIndex: 1, cursor: cursor(items),
          itemStyle: {color: COLORS.rate}, tooltip: {valueFormatter: percent},
          data: items.map((m) => m.on_time_rate),
        }],
      },
      ariaLabel: describe(label('trend'), items.map((m) =>
        `${m.month}: ${label('records')} ${m.records}, ${label('on_time')} ${m.on_time}, ` +
        `${label('late')} ${m.late}, ${label('overdue')} ${m.overdue}, ` +
        `${label('on_time_rate')} ${percent(m.on_time_rate)}`)),
    });
  };

  // Horizontal bars, the first item on top.
  const horizontalBars = (id, items, {title, name, value, color, format = String, xAxis = {}}) =>
    draw(id, items, {
      option: {
        tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}, valueFormatter: format},
        grid: {top: 8, left: 8, right: 24, bottom: 8},
        xAxis: Object.assign({type: 'value', axisLabel: {formatter: format}}, xAxis),
        yAxis: {type: 'category', inverse: true, data: items.map(name),
                axisLabel: {width: 200, overflow: 'truncate'}},
        series: [{type: 'bar', name: title, barMaxWidth: 20, itemStyle: {color},
                  cursor: cursor(items), data: items.map(value)}],
      },
      ariaLabel: describe(title, items.map((item) => `${name(item)}: ${format(value(item))}`)),
      height: Math.max(160, items.length * ROW_HEIGHT + 40),
    });

  // Departments without records (no rate) last.
  const rateOrder = (rate) => (rate == null ? -1 : rate);

  const rankingChart = (data, label) => horizontalBars(
    'yantai-chart-ranking',
    (data.ranking || []).slice()
      .sort((a, b) => rateOrder(b.on_time_rate) - rateOrder(a.on_time_rate)),
    {title: label('ranking'), name: (d) => d.title || d.organization,
     value: (d) => d.on_time_rate, color: COLORS.rate, format: percent,
     xAxis: {min: 0, max: 1}});

  const invalidChart = (data, label) => horizontalBars(
    'yantai-chart-invalid',
    (data.invalid_by_rule || []).slice().sort((a, b) => b.count - a.count),
    {title: label('invalid_by_rule'), name: (d) => d.label || d.code, value: (d) => d.count,
     color: COLORS.overdue, xAxis: {minInterval: 1}});

  const lateChart = (data, label) => {
    const items = data.late_by_days || [];
    return draw('yantai-chart-late', items, {
      option: {
        tooltip: {trigger: 'axis', axisPointer: {type: 'shadow'}},
        grid: {top: 32, left: 8, right: 8, bottom: 8},
        xAxis: {type: 'category', name: label('days'), nameLocation: 'middle', nameGap: 28,
                data: items.map((d) => d.days)},
        yAxis: {type: 'value', name: label('count'), minInterval: 1},
        series: [{type: 'bar', name: label('count'), barMaxWidth: 40,
                  itemStyle: {color: COLORS.late}, cursor: cursor(items),
                  data: items.map((d) => d.count)}],
      },
      ariaLabel: describe(label('late_by_days'),
                          items.map((d) => `${label('days')} ${d.days}: ${d.count}`)),
    });
  };

  start('yantai-compliance-data', (data, label) =>
    [trendChart, rankingChart, lateChart, invalidChart].map((chart) => chart(data, label)));
})();
