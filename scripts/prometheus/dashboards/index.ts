import type { DashboardSpec } from '../grafana';
import { exfiltrationDashboard } from './exfiltration';
import { dataPlaneDashboard } from './data-plane';
import { operatorDashboard } from './operator';

/** Every kube-dlp dashboard, in the order docs/dashboards.md presents them. */
export const DASHBOARDS: readonly DashboardSpec[] = [exfiltrationDashboard, dataPlaneDashboard, operatorDashboard];
