package dev.regmirror.server.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** What a {@code Range} header selects of a blob of 1000 bytes: a part, nothing (416), or all of it. */
class ByteRangeTest {

    private static final long SIZE = 1000;

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
        // satisfiable: the Content-Range of the 206
        "bytes=0-499                       | bytes 0-499/1000",
        "bytes=500-999                     | bytes 500-999/1000",
        "bytes=0-0                         | bytes 0-0/1000",
        "bytes=999-999                     | bytes 999-999/1000",
        "bytes=500-                        | bytes 500-999/1000",
        "bytes=0-                          | bytes 0-999/1000",
        "bytes=900-5000                    | bytes 900-999/1000",
        "bytes=0-99999999999999999999999   | bytes 0-999/1000",
        "bytes=-100                        | bytes 900-999/1000",
        "bytes=-1                          | bytes 999-999/1000",
        "bytes=-1000                       | bytes 0-999/1000",
        "bytes=-5000                       | bytes 0-999/1000",
        "BYTES=1-2                         | bytes 1-2/1000",
        "'bytes= 1-2 '                     | bytes 1-2/1000",
        // unsatisfiable: 416
        "bytes=1000-                       | 416",
        "bytes=1000-2000                   | 416",
        "bytes=-0                          | 416",
        "bytes=99999999999999999999999-    | 416",
        // ignored: the whole blob, 200
        "bytes=0-1,5-6                     | whole",
        "'bytes=0-1, 5-6'                  | whole",
        "'bytes=0-1,'                      | whole",
        "items=0-1                         | whole",
        "0-1                               | whole",
        "bytes 0-1                         | whole",
        "''                                | whole",
        "bytes=                            | whole",
        "bytes=-                           | whole",
        "bytes=5-1                         | whole",
        "bytes=a-b                         | whole",
        "bytes=+1-2                        | whole",
        "bytes=1--2                        | whole",
        "bytes=-1-2                        | whole",
        "bytes=1-2-3                       | whole",
        "bytes=0x10-                       | whole",
        "'bytes=1 - 2'                     | whole",
    })
    void selectsFromABlobOf1000Bytes(String header, String expected) {
        Optional<ByteRange> range = ByteRange.parse(header);
        String actual = range.map(r -> r.within(SIZE).map(ContentRange::toString).orElse("416")).orElse("whole");
        assertEquals(expected, actual);
    }

    @Test
    void noHeaderIsTheWholeBlob() {
        assertTrue(ByteRange.parse(null).isEmpty());
    }

    @ParameterizedTest
    @CsvSource({"bytes=1-2", "bytes=5-", "bytes=-3"})
    void printsTheHeaderItWasParsedFrom(String header) {
        assertEquals(header, ByteRange.parse(header).orElseThrow().toString());
    }

    @Test
    void aPartKnowsItsLengthAndTheUnsatisfiedFormIsTheSizeAlone() {
        ContentRange part = ByteRange.parse("bytes=10-19").orElseThrow().within(SIZE).orElseThrow();
        assertEquals(10, part.length());
        assertEquals("bytes */1000", ContentRange.unsatisfied(SIZE));
    }

    @Test
    void onlyABlobOfKnownNonZeroSizeHasParts() {
        ByteRange range = ByteRange.parse("bytes=0-").orElseThrow();
        assertThrows(IllegalArgumentException.class, () -> range.within(0));
        assertThrows(IllegalArgumentException.class, () -> range.within(-1));
        assertThrows(IllegalArgumentException.class, () -> new ContentRange(5, 4, 10));
        assertThrows(IllegalArgumentException.class, () -> new ContentRange(0, 10, 10));
    }
}
