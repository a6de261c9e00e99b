package dev.faultdisk.device;

import java.util.Arrays;

/** The pages a frontend holds while it sends them ({@link PageSource#views}); one per sender, reused. */
public final class PagePins {
    private int[] pages = new int[64];
    private int count;
    /** Where the pages held are pinned. */
    private PageSlabs slabs;

    /** Pins from now on are {@code slabs}' (what is held is let go first if it is another's). */
    void holder(PageSlabs slabs) {
        if (this.slabs != slabs) {
            release();
            this.slabs = slabs;
        }
    }

    void add(int page) {
        if (count == pages.length) {
            pages = Arrays.copyOf(pages, count * 2);
        }
        pages[count++] = page;
    }

    /** Lets every page held go. */
    void release() {
        for (int i = 0; i < count; i++) {
            slabs.unpin(pages[i]);
        }
        count = 0;
    }

    /** Pages held now. */
    public int count() {
        return count;
    }
}
