/** One page of the dashboard: it draws into its container, and `refresh` is called at most once a second. */
export interface View {
  readonly title: string;
  /** Milliseconds between refreshes; 0: drawn once (the explain box). */
  readonly refreshMs: number;
  mount(container: HTMLElement): void;
  refresh(): Promise<void>;
}
