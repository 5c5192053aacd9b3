// Rows drawn only where they are seen: @tanstack/virtual-core bound to Preact (what its React
// adapter does), so a list of 100,000 traces or a waterfall of 10,000 spans keeps a few dozen rows
// in the DOM.
import { useLayoutEffect, useReducer, useState } from 'preact/hooks';
import { Virtualizer, elementScroll, observeElementOffset, observeElementRect } from '@tanstack/virtual-core';

export function useVirtualRows(options: {
  count: number;
  rowHeight: number;
  scrollElement: () => HTMLElement | null;
  overscan?: number;
}): Virtualizer<HTMLElement, Element> {
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const settings = {
    count: options.count,
    getScrollElement: options.scrollElement,
    estimateSize: () => options.rowHeight,
    overscan: options.overscan ?? 12,
    observeElementRect,
    observeElementOffset,
    scrollToFn: elementScroll,
    onChange: () => rerender(0),
  };
  const [virtualizer] = useState(() => new Virtualizer<HTMLElement, Element>(settings));
  virtualizer.setOptions({ ...virtualizer.options, ...settings });
  useLayoutEffect(() => virtualizer._didMount(), []);
  useLayoutEffect(() => {
    virtualizer._willUpdate();
  });
  return virtualizer;
}
