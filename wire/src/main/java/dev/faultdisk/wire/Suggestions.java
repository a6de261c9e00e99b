package dev.faultdisk.wire;

import java.util.Collection;
import java.util.Locale;
import java.util.Optional;

/** "Did you mean ...?" for a name that is not one of the known ones: the nearest by edit distance. */
public final class Suggestions {
    private Suggestions() {}

    /**
     * The known name closest to {@code wrong} (ignoring case), when it is near enough to be the
     * one meant: at most a third of its letters differ (a typo, a swapped pair) or it begins with
     * {@code wrong}; else empty.
     */
    public static Optional<String> closest(String wrong, Collection<String> known) {
        String w = wrong.toLowerCase(Locale.ROOT);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String k : known) {
            int d = distance(w, k.toLowerCase(Locale.ROOT));
            if (d < bestDistance) {
                best = k;
                bestDistance = d;
            }
        }
        if (best != null && bestDistance <= limit(w)) {
            return Optional.of(best);
        }
        // A name cut short ("flaky" for flaky-disk) is far by distance but plainly meant.
        return w.length() < 3
                ? Optional.empty()
                : known.stream()
                        .filter(k -> k.toLowerCase(Locale.ROOT).startsWith(w))
                        .findFirst();
    }

    /** "did you mean X?" or the empty string. */
    public static String didYouMean(String wrong, Collection<String> known) {
        return closest(wrong, known).map(s -> "did you mean " + s + "?").orElse("");
    }

    private static int limit(String word) {
        return word.length() / 3;
    }

    /** Damerau-Levenshtein distance (optimal string alignment): a swapped pair counts once. */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
