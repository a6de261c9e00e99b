package dev.faultdisk.fault;

import dev.faultdisk.device.BlockRequest;
import java.time.Instant;

/**
 * A request a hang rule or a trigger holds: it gets no reply until released, failed or expired.
 *
 * @param id      the hold's id, unique per export, in arrival order
 * @param export  the export's name
 * @param rule    the hang rule's id, or 0 if a trigger holds it
 * @param trigger the trigger's id, or 0 if a hang rule holds it
 * @param request the request
 * @param since   when it was held (fault clock)
 */
public record HeldRequest(long id, String export, long rule, long trigger, BlockRequest request, Instant since) {}
