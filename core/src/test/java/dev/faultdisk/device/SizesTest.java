package dev.faultdisk.device;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SizesTest {

    @Test
    void parsesPlainAndSuffixedSizes() {
        assertEquals(0, Sizes.parse("0"));
        assertEquals(512, Sizes.parse("512"));
        assertEquals(512, Sizes.parse("512B"));
        assertEquals(65536, Sizes.parse("64K"));
        assertEquals(65536, Sizes.parse("64k"));
        assertEquals(65536, Sizes.parse("64KiB"));
        assertEquals(65536, Sizes.parse("64KB"));
        assertEquals(3L << 20, Sizes.parse("3M"));
        assertEquals(1L << 30, Sizes.parse(" 1G "));
        assertEquals(1L << 30, Sizes.parse("1GiB"));
        assertEquals(10L << 40, Sizes.parse("10T"));
        assertEquals(8191L << 50, Sizes.parse("8191P"));
        assertEquals(Long.MAX_VALUE, Sizes.parse("9223372036854775807"));
    }

    @Test
    void refusesWhatIsNotASize() {
        for (String bad : new String[] {
            "", " ", "abc", "1.5G", "1X", "K", "KiB", "B", "G1", "1 G", "0x10", "1e9", "99999999999999999999"
        }) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
            assertTrue(e.getMessage().contains("not a size"), e.getMessage());
        }
    }

    @Test
    void refusesNegativeAndOverflowingSizes() {
        for (String bad : new String[] {"-1", "-1K", "8192P", "8388608T", "9223372036854775807K"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Sizes.parse(bad), bad);
            assertTrue(e.getMessage().contains("'" + bad + "'"), e.getMessage());
        }
    }

    @Test
    void formatsInTheLargestExactUnit() {
        assertEquals("0 B", Sizes.format(0));
        assertEquals("1536 B", Sizes.format(1536));
        assertEquals("1 GiB", Sizes.format(1L << 30));
        assertEquals("1536 KiB", Sizes.format(1536L << 10));
        assertEquals("3 TiB", Sizes.format(3L << 40));
        assertEquals("2048 PiB", Sizes.format(2048L << 50));
        for (String s : new String[] {"1G", "1536K", "7", "12345M"}) {
            assertEquals(
                    Sizes.parse(s), Sizes.parse(Sizes.format(Sizes.parse(s)).replace(" ", "")), s);
        }
    }
}
