package dev.faultdisk.nbd;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.net.UnixDomainSocketAddress;
import org.junit.jupiter.api.Test;

/** The URIs a client on the server's host is told for an export, as libnbd and QEMU parse them. */
class NbdUriTest {
    @Test
    void tcpAddressesGiveTheirHostAndPortAndWildcardsTheLoopback() {
        assertEquals(
                "nbd://127.0.0.1:10809/disk0", NbdUri.of(new InetSocketAddress("127.0.0.1", 10809), "disk0", false));
        assertEquals("nbd://127.0.0.1:4000/d", NbdUri.of(new InetSocketAddress("0.0.0.0", 4000), "d", false));
        assertEquals("nbd://[::1]:4000/d", NbdUri.of(new InetSocketAddress("::", 4000), "d", false));
        assertEquals(
                "nbd://[0:0:0:0:0:0:0:1]:4000/d",
                NbdUri.of(new InetSocketAddress("::1", 4000), "d", false)); // a valid literal
        assertEquals("nbds://10.1.2.3:10809/d", NbdUri.of(new InetSocketAddress("10.1.2.3", 10809), "d", true));
    }

    @Test
    void namesArePercentEncodedAsClientsDecodeThem() {
        assertEquals(
                "nbd://127.0.0.1:1/a%20b%3Fc%23d%25%C3%A9/e:f@g-h_i.j~k",
                NbdUri.of(new InetSocketAddress("127.0.0.1", 1), "a b?c#d%é/e:f@g-h_i.j~k", false));
        assertEquals(
                "nbd+unix:///x%26y?socket=/tmp/my%20dir/s.sock",
                NbdUri.of(UnixDomainSocketAddress.of("/tmp/my dir/s.sock"), "x&y", false));
    }

    @Test
    void unixSocketsGiveTheSocketsPath() {
        assertEquals(
                "nbd+unix:///disk0?socket=/tmp/faultdisk.sock",
                NbdUri.of(UnixDomainSocketAddress.of("/tmp/faultdisk.sock"), "disk0", false));
        assertEquals(
                "nbds+unix:///?socket=/run/fd.sock", NbdUri.of(UnixDomainSocketAddress.of("/run/fd.sock"), "", true));
    }
}
