package dev.faultdisk.fault;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The registry of fault types: the name in a rule's "type" to its parser, as Toxiproxy maps toxics. */
public final class FaultTypes {
    private static final Map<String, FaultType> TYPES = new LinkedHashMap<>();

    static {
        for (FaultType t : List.of(
                ErrorFault.TYPE,
                DelayFault.TYPE,
                ThrottleFault.TYPE,
                HangFault.TYPE,
                CorruptFault.TYPE,
                BadSectorFault.TYPE,
                TornWriteFault.TYPE,
                LostWriteFault.TYPE,
                MisdirectedWriteFault.TYPE,
                DisconnectFault.TYPE)) {
            TYPES.put(t.name(), t);
        }
    }

    private FaultTypes() {}

    public static Optional<FaultType> find(String name) {
        return Optional.ofNullable(TYPES.get(name));
    }

    /** Every type, in the order of the documentation. */
    public static List<FaultType> all() {
        return List.copyOf(TYPES.values());
    }

    public static List<String> names() {
        return new ArrayList<>(TYPES.keySet());
    }
}
