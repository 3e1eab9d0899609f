// The part of ECharts the statistics pages draw with (app/static/js/sentinel-stats.js):
// horizontal and stacked bar charts with a tooltip, a legend, a grid and value/category
// axes, on canvas. Bundled by build.sh into app/static/vendor/echarts/echarts.min.js,
// exposing the same global `echarts` (init, use) as the full build.
import * as echarts from "echarts/core";
import { BarChart } from "echarts/charts";
import { GridComponent, LegendComponent, TooltipComponent } from "echarts/components";
import { CanvasRenderer } from "echarts/renderers";

echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

export default echarts;
export const init = echarts.init;
export const use = echarts.use;
export const getInstanceByDom = echarts.getInstanceByDom;
