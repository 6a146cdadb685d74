// Grafana dashboard JSON from short panel definitions. The dashboards are
// written as data in scripts/prometheus/dashboards/ so that a query, its unit
// and the question the panel answers sit together, and every panel gets the
// same datasource wiring, layout and defaults. The JSON under
// config/grafana/dashboards/ is generated from them (generate.ts) and
// committed, so users import plain files.

/** Grafana 10.3+/11 writes 39; older versions refuse nothing newer than they know, newer ones migrate. */
export const SCHEMA_VERSION = 39;

export const PROMETHEUS = { type: 'prometheus', uid: '${datasource}' } as const;
export const LOKI = { type: 'loki', uid: '${loki}' } as const;
type DatasourceRef = typeof PROMETHEUS | typeof LOKI;

export interface TargetSpec {
  expr: string;
  legend?: string;
  /** One value per series at the end of the range (stat, table, bar gauge). */
  instant?: boolean;
}

export interface Threshold {
  color: string;
  /** null: the base colour below every other step. */
  value: number | null;
}

export interface ValueText {
  value: string;
  text: string;
  color?: string;
}

interface PanelCommon {
  title: string;
  /** The question the panel answers; shown in Grafana's (i) tooltip and listed in docs/dashboards.md. */
  description: string;
  /** Width in grid columns (24 per line). */
  w: number;
  h?: number;
}

export interface TimeseriesSpec extends PanelCommon {
  kind: 'timeseries';
  targets: TargetSpec[];
  unit?: string;
  stack?: boolean;
  thresholds?: Threshold[];
}

export interface StatSpec extends PanelCommon {
  kind: 'stat';
  targets: TargetSpec[];
  unit?: string;
  thresholds?: Threshold[];
  mappings?: ValueText[];
  /** Shown when the query returns nothing (counts over an empty set have no value). */
  noValue?: string;
}

export interface TableSpec extends PanelCommon {
  kind: 'table';
  targets: TargetSpec[];
  /** Header of the value column; omitted for info series (value always 1), whose value column is hidden. */
  valueTitle?: string;
  unit?: string;
}

export interface BarGaugeSpec extends PanelCommon {
  kind: 'bargauge';
  targets: TargetSpec[];
  unit?: string;
}

export interface LogsSpec extends PanelCommon {
  kind: 'logs';
  expr: string;
}

export type PanelSpec = TimeseriesSpec | StatSpec | TableSpec | BarGaugeSpec | LogsSpec;

export interface RowSpec {
  title: string;
  /** Collapsed rows run no queries until opened (the optional Loki panel). */
  collapsed?: boolean;
  panels: PanelSpec[];
}

export type VariableSpec =
  | { kind: 'datasource'; name: string; label: string; pluginId: 'prometheus' | 'loki'; description: string }
  | { kind: 'query'; name: string; label: string; query: string; description: string; multi?: boolean }
  | { kind: 'textbox'; name: string; label: string; value: string; description: string };

export interface DashboardSpec {
  uid: string;
  title: string;
  description: string;
  variables: VariableSpec[];
  rows: RowSpec[];
}

export type Json = Record<string, unknown>;

const DEFAULT_HEIGHT = 8;
const GRID_WIDTH = 24;
export const DASHBOARD_TAG = 'kube-dlp';
const BASE_THRESHOLDS: Threshold[] = [{ color: 'green', value: null }];

export function renderDashboard(spec: DashboardSpec): Json {
  let nextId = 1;
  let y = 0;
  const panels: Json[] = [];
  for (const row of spec.rows) {
    const rowPanel: Json = { type: 'row', id: nextId++, title: row.title, collapsed: row.collapsed ?? false, gridPos: { h: 1, w: GRID_WIDTH, x: 0, y }, panels: [] };
    panels.push(rowPanel);
    y += 1;
    let x = 0;
    let lineHeight = 0;
    const placed: Json[] = [];
    for (const p of row.panels) {
      if (p.w > GRID_WIDTH) throw new Error(`${spec.uid}: panel "${p.title}" is wider than the grid`);
      if (x + p.w > GRID_WIDTH) {
        y += lineHeight;
        x = 0;
        lineHeight = 0;
      }
      const h = p.h ?? DEFAULT_HEIGHT;
      placed.push(renderPanel(p, nextId++, { h, w: p.w, x, y }));
      x += p.w;
      lineHeight = Math.max(lineHeight, h);
    }
    y += lineHeight;
    // Grafana keeps a collapsed row's panels inside the row and lays them out when it opens.
    if (row.collapsed) rowPanel.panels = placed;
    else panels.push(...placed);
  }
  return {
    annotations: {
      list: [
        {
          builtIn: 1,
          datasource: { type: 'grafana', uid: '-- Grafana --' },
          enable: true,
          hide: true,
          iconColor: 'rgba(0, 211, 255, 1)',
          name: 'Annotations & Alerts',
          type: 'dashboard',
        },
      ],
    },
    description: spec.description,
    editable: true,
    fiscalYearStartMonth: 0,
    graphTooltip: 1,
    id: null,
    links: [{ asDropdown: true, icon: 'external link', includeVars: false, keepTime: true, tags: [DASHBOARD_TAG], targetBlank: false, title: 'kube-dlp', tooltip: 'The other kube-dlp dashboards', type: 'dashboards' }],
    panels,
    refresh: '30s',
    schemaVersion: SCHEMA_VERSION,
    tags: [DASHBOARD_TAG],
    templating: { list: spec.variables.map(renderVariable) },
    time: { from: 'now-6h', to: 'now' },
    timepicker: {},
    timezone: 'browser',
    title: spec.title,
    uid: spec.uid,
    version: 1,
    weekStart: '',
  };
}

function renderPanel(p: PanelSpec, id: number, gridPos: Json): Json {
  const base = { id, title: p.title, description: p.description, gridPos };
  switch (p.kind) {
    case 'timeseries':
      return {
        ...base,
        type: 'timeseries',
        datasource: PROMETHEUS,
        targets: renderTargets(p.targets, PROMETHEUS),
        fieldConfig: {
          defaults: {
            unit: p.unit ?? 'short',
            min: 0,
            color: { mode: 'palette-classic' },
            thresholds: thresholds(p.thresholds),
            custom: {
              drawStyle: 'line',
              lineWidth: 1,
              fillOpacity: p.stack ? 30 : 10,
              showPoints: 'never',
              spanNulls: false,
              stacking: { mode: p.stack ? 'normal' : 'none', group: 'A' },
              thresholdsStyle: { mode: p.thresholds ? 'line' : 'off' },
            },
          },
          overrides: [],
        },
        options: {
          legend: { displayMode: 'list', placement: 'bottom', showLegend: true },
          tooltip: { mode: 'multi', sort: 'desc' },
        },
      };
    case 'stat':
      return {
        ...base,
        type: 'stat',
        datasource: PROMETHEUS,
        targets: renderTargets(p.targets, PROMETHEUS),
        fieldConfig: {
          defaults: {
            unit: p.unit ?? 'short',
            color: { mode: 'thresholds' },
            thresholds: thresholds(p.thresholds),
            mappings: valueMappings(p.mappings),
            ...(p.noValue !== undefined ? { noValue: p.noValue } : {}),
          },
          overrides: [],
        },
        options: {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          colorMode: 'background',
          graphMode: 'none',
          justifyMode: 'auto',
          orientation: 'auto',
          textMode: 'auto',
          wideLayout: true,
          showPercentChange: false,
        },
      };
    case 'table':
      return {
        ...base,
        type: 'table',
        datasource: PROMETHEUS,
        targets: renderTargets(p.targets, PROMETHEUS, 'table'),
        fieldConfig: { defaults: { unit: p.unit ?? 'short', thresholds: thresholds(), custom: { align: 'auto', cellOptions: { type: 'auto' } } }, overrides: [] },
        options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' } },
        transformations: [
          {
            id: 'organize',
            options: {
              excludeByName: Object.fromEntries(['Time', '__name__', ...(p.valueTitle ? [] : ['Value'])].map((c) => [c, true])),
              renameByName: p.valueTitle ? { Value: p.valueTitle } : {},
            },
          },
        ],
      };
    case 'bargauge':
      return {
        ...base,
        type: 'bargauge',
        datasource: PROMETHEUS,
        targets: renderTargets(p.targets, PROMETHEUS),
        fieldConfig: { defaults: { unit: p.unit ?? 'short', min: 0, color: { mode: 'continuous-BlYlRd' }, thresholds: thresholds() }, overrides: [] },
        options: {
          reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
          orientation: 'horizontal',
          displayMode: 'gradient',
          valueMode: 'color',
          namePlacement: 'auto',
          showUnfilled: true,
          sizing: 'auto',
          minVizHeight: 16,
          minVizWidth: 8,
          maxVizHeight: 300,
        },
      };
    case 'logs':
      return {
        ...base,
        type: 'logs',
        datasource: LOKI,
        targets: [{ datasource: LOKI, expr: p.expr, queryType: 'range', refId: 'A', editorMode: 'code' }],
        options: {
          showTime: true,
          showLabels: false,
          showCommonLabels: false,
          wrapLogMessage: true,
          prettifyLogMessage: false,
          enableLogDetails: true,
          dedupStrategy: 'none',
          sortOrder: 'Descending',
        },
      };
  }
}

function renderTargets(targets: TargetSpec[], ds: DatasourceRef, format: 'time_series' | 'table' = 'time_series'): Json[] {
  return targets.map((t, i) => {
    const instant = t.instant ?? format === 'table';
    return {
      datasource: ds,
      editorMode: 'code',
      expr: t.expr,
      format,
      instant,
      range: !instant,
      legendFormat: t.legend ?? '__auto',
      refId: String.fromCharCode(65 + i),
    };
  });
}

function thresholds(steps: Threshold[] = BASE_THRESHOLDS): Json {
  return { mode: 'absolute', steps };
}

function valueMappings(mappings: ValueText[] | undefined): Json[] {
  if (!mappings) return [];
  return [
    {
      type: 'value',
      options: Object.fromEntries(mappings.map((m, index) => [m.value, { text: m.text, index, ...(m.color ? { color: m.color } : {}) }])),
    },
  ];
}

function renderVariable(v: VariableSpec): Json {
  const common = { name: v.name, label: v.label, description: v.description, hide: 0, skipUrlSync: false };
  switch (v.kind) {
    case 'datasource':
      // `current` names Grafana's default datasource until the user picks one; the model requires text and value.
      return { ...common, type: 'datasource', query: v.pluginId, current: { selected: false, text: 'default', value: 'default' }, options: [], refresh: 1, regex: '', includeAll: false, multi: false };
    case 'textbox':
      return { ...common, type: 'textbox', query: v.value, current: { selected: false, text: v.value, value: v.value }, options: [{ selected: true, text: v.value, value: v.value }] };
    case 'query': {
      const multi = v.multi ?? true;
      return {
        ...common,
        type: 'query',
        datasource: PROMETHEUS,
        // The plain string form (as grafonnet writes it): Grafana runs it as is and its editor parses it on open.
        // (No `definition`: the @grafana/schema dashboard model has no such field.)
        query: v.query,
        // On time range change: sidecars come and go.
        refresh: 2,
        regex: '',
        sort: 1,
        multi,
        includeAll: multi,
        ...(multi ? { allValue: '.*' } : {}),
        // Empty text and value: Grafana selects the first option after the refresh.
        current: multi ? { selected: true, text: ['All'], value: ['$__all'] } : { selected: false, text: '', value: '' },
        options: [],
      };
    }
  }
}
