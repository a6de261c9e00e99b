package dev.faultdisk.trigger;

import java.util.List;

/** A condition's evaluation state. Not thread-safe: the engine offers observations one at a time. */
interface Matcher {

    /** Counts {@code o}; true if the condition is satisfied at this observation. */
    boolean offer(Observation o);

    /** Forgets all counts, as if just added. */
    void reset();

    /** What it waits for now, e.g. "12/20 write on disk0", one entry per leaf still counting. */
    void progress(List<String> out);
}
