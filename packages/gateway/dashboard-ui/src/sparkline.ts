import uPlot from 'uplot';

/** A small line chart without axes or legend, for a table cell: the last 15 minutes of one figure. */
export class Sparkline {
  private readonly chart: uPlot;
  readonly element: HTMLElement;

  constructor(label: string, color: string) {
    this.element = document.createElement('div');
    this.element.className = 'sparkline';
    this.element.setAttribute('aria-label', label);
    this.chart = new uPlot(
      {
        width: 140,
        height: 32,
        pxAlign: 0,
        cursor: { show: false },
        legend: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        // From 0, with headroom above the highest value, so that a flat line at 0 still shows above the bottom edge.
        scales: { x: { time: true }, y: { range: (_self, _min, max) => [-0.05 * Math.max(max ?? 0, 1e-6), Math.max(max ?? 0, 1e-6) * 1.15] } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: color, width: 1.5, fill: `${color}22`, points: { show: false } }],
      },
      [[], []],
      this.element,
    );
  }

  update(time: readonly number[], values: readonly (number | null)[]): void {
    this.chart.setData([[...time], [...values]] as uPlot.AlignedData);
  }
}
