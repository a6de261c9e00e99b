package dev.faultdisk.interop;

/**
 * The checks of {@link SendfileReadTest} with large reads written from the image's mapping, the
 * default way ({@code -Dfaultdisk.nbd.fileReads=map}).
 */
class MappedFileReadTest extends SendfileReadTest {
    @Override
    protected String mode() {
        return "map";
    }
}
