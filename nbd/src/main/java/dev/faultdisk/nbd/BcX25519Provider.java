package dev.faultdisk.nbd;

import java.math.BigInteger;
import java.security.InvalidAlgorithmParameterException;
import java.security.InvalidKeyException;
import java.security.InvalidParameterException;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGeneratorSpi;
import java.security.Provider;
import java.security.SecureRandom;
import java.security.Security;
import java.security.interfaces.XECPrivateKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.AlgorithmParameterSpec;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.crypto.KeyAgreementSpi;
import javax.crypto.SecretKey;
import javax.crypto.ShortBufferException;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.math.ec.rfc7748.X25519;

/**
 * X25519 for the JDK's own TLS (certificates) by Bouncy Castle's RFC 7748 arithmetic: the JDK's
 * engine asks the providers for "XDH" by name and has no way to be given one, so this provider goes
 * first in the JVM's list. It serves X25519 alone: an X448 key pair or key falls through to the
 * JDK's provider (the key pair generator's initialisation and the agreement's key choose the
 * provider). A key pair and an agreement cost about 115 µs against the JDK's 290.
 */
final class BcX25519Provider extends Provider {
    static final String NAME = "faultdisk-X25519";
    private static final long serialVersionUID = 1L;

    /** RFC 8410's encodings: the fixed DER before the 32 bytes of a key. */
    private static final byte[] SPKI_PREFIX = hex("302a300506032b656e032100");

    private static final byte[] PKCS8_PREFIX = hex("302e020100300506032b656e04220420");

    /** Agreements made, for the tests that check the JDK's engine came here. */
    static final LongAdder AGREEMENTS = new LongAdder();

    private BcX25519Provider() {
        super(NAME, "1", "X25519 by Bouncy Castle's RFC 7748 arithmetic, for the JDK's TLS");
        putService(new Factory(this, "KeyPairGenerator", KeyPairs.class, KeyPairs::new, key -> true));
        putService(
                new Factory(this, "KeyAgreement", Agreement.class, Agreement::new, X25519PrivateKey.class::isInstance));
    }

    /**
     * Puts the provider first, once; {@code -Dfaultdisk.tls.x25519=jdk} leaves the JDK's alone, for
     * comparison.
     */
    static synchronized void install() {
        if (BcX25519Domain.ENABLED && Security.getProvider(NAME) == null) {
            Security.insertProviderAt(new BcX25519Provider(), 1);
        }
    }

    private static boolean isX25519(AlgorithmParameterSpec params) {
        return params instanceof NamedParameterSpec named && "X25519".equalsIgnoreCase(named.getName());
    }

    /** A service made without reflection, taking only the keys {@code supports} names. */
    private static final class Factory extends Service {
        private final Supplier<Object> make;
        private final Predicate<Object> supports;

        Factory(Provider provider, String type, Class<?> made, Supplier<Object> make, Predicate<Object> supports) {
            super(provider, type, "XDH", made.getName(), List.of("X25519"), null);
            this.make = make;
            this.supports = supports;
        }

        @Override
        public Object newInstance(Object constructorParameter) {
            return make.get();
        }

        @Override
        public boolean supportsParameter(Object parameter) {
            return supports.test(parameter);
        }
    }

    /** X25519 key pairs; initialising for any other curve fails, which moves the JDK to the next provider. */
    private static final class KeyPairs extends KeyPairGeneratorSpi {
        private SecureRandom random;

        @Override
        public void initialize(int keySize, SecureRandom random) {
            if (keySize != 255) {
                throw new InvalidParameterException("X25519 only (255 bits), not " + keySize);
            }
            this.random = random;
        }

        @Override
        public void initialize(AlgorithmParameterSpec params, SecureRandom random)
                throws InvalidAlgorithmParameterException {
            if (!isX25519(params)) {
                throw new InvalidAlgorithmParameterException("X25519 only, not " + params);
            }
            this.random = random;
        }

        @Override
        public KeyPair generateKeyPair() {
            byte[] scalar = new byte[X25519.SCALAR_SIZE];
            X25519.generatePrivateKey(random != null ? random : new SecureRandom(), scalar);
            byte[] u = new byte[X25519.POINT_SIZE];
            X25519.generatePublicKey(scalar, 0, u, 0);
            return new KeyPair(new X25519PublicKey(u), new X25519PrivateKey(scalar));
        }
    }

    /** One X25519 agreement: our private key, the peer's public key of any provider. */
    private static final class Agreement extends KeyAgreementSpi {
        private X25519PrivateKey privateKey;
        private byte[] secret;

        @Override
        protected void engineInit(Key key, SecureRandom random) throws InvalidKeyException {
            if (!(key instanceof X25519PrivateKey ours)) {
                throw new InvalidKeyException("not an X25519 key of " + NAME);
            }
            privateKey = ours;
            secret = null;
        }

        @Override
        protected void engineInit(Key key, AlgorithmParameterSpec params, SecureRandom random)
                throws InvalidKeyException, InvalidAlgorithmParameterException {
            if (params != null && !isX25519(params)) {
                throw new InvalidAlgorithmParameterException("X25519 only, not " + params);
            }
            engineInit(key, random);
        }

        @Override
        protected Key engineDoPhase(Key key, boolean lastPhase) throws InvalidKeyException {
            if (privateKey == null) {
                throw new IllegalStateException("not initialised");
            }
            if (!lastPhase) {
                throw new IllegalStateException("X25519 has one phase");
            }
            if (!(key instanceof XECPublicKey peer) || !isX25519(peer.getParams())) {
                throw new InvalidKeyException("not an X25519 public key");
            }
            byte[] result = new byte[X25519.POINT_SIZE];
            // false: a point of small order, the all-zero secret (RFC 7748, section 6.1).
            if (!X25519.calculateAgreement(privateKey.bytes, 0, littleEndian(peer.getU()), 0, result, 0)) {
                throw new InvalidKeyException("the peer's X25519 point has small order");
            }
            secret = result;
            AGREEMENTS.increment();
            return null;
        }

        @Override
        protected byte[] engineGenerateSecret() {
            return takeSecret();
        }

        @Override
        protected int engineGenerateSecret(byte[] out, int offset) throws ShortBufferException {
            if (out.length - offset < X25519.POINT_SIZE) {
                throw new ShortBufferException("an X25519 secret is 32 bytes");
            }
            byte[] result = takeSecret();
            System.arraycopy(result, 0, out, offset, result.length);
            Arrays.fill(result, (byte) 0);
            return X25519.POINT_SIZE;
        }

        @Override
        protected SecretKey engineGenerateSecret(String algorithm) {
            byte[] result = takeSecret();
            try {
                return new SecretKeySpec(result, algorithm);
            } finally {
                Arrays.fill(result, (byte) 0);
            }
        }

        private byte[] takeSecret() {
            if (secret == null) {
                throw new IllegalStateException("no agreement made");
            }
            byte[] result = secret;
            secret = null;
            return result;
        }
    }

    /** The u-coordinate as RFC 7748's 32 little-endian bytes. */
    private static byte[] littleEndian(BigInteger u) throws InvalidKeyException {
        if (u.signum() < 0 || u.bitLength() > 256) {
            throw new InvalidKeyException("an X25519 u-coordinate out of range");
        }
        byte[] bigEndian = u.toByteArray();
        byte[] out = new byte[X25519.POINT_SIZE];
        for (int i = 0; i < out.length && i < bigEndian.length; i++) {
            out[i] = bigEndian[bigEndian.length - 1 - i];
        }
        return out;
    }

    private static byte[] hex(String digits) {
        return HexFormat.of().parseHex(digits);
    }

    /** An X25519 key of this provider: its 32 bytes and RFC 8410's encoding of them. */
    private abstract static class X25519Key implements Key {
        private static final long serialVersionUID = 1L;
        final byte[] bytes;
        private final byte[] prefix;
        private final String format;

        X25519Key(byte[] bytes, byte[] prefix, String format) {
            this.bytes = bytes;
            this.prefix = prefix;
            this.format = format;
        }

        public AlgorithmParameterSpec getParams() {
            return NamedParameterSpec.X25519;
        }

        @Override
        public String getAlgorithm() {
            return "XDH";
        }

        @Override
        public String getFormat() {
            return format;
        }

        @Override
        public byte[] getEncoded() {
            byte[] out = Arrays.copyOf(prefix, prefix.length + bytes.length);
            System.arraycopy(bytes, 0, out, prefix.length, bytes.length);
            return out;
        }
    }

    /** An X25519 public key: its u-coordinate in RFC 7748's bytes. */
    private static final class X25519PublicKey extends X25519Key implements XECPublicKey {
        private static final long serialVersionUID = 1L;

        X25519PublicKey(byte[] u) {
            super(u, SPKI_PREFIX, "X.509");
        }

        @Override
        public BigInteger getU() {
            byte[] bigEndian = new byte[bytes.length];
            for (int i = 0; i < bytes.length; i++) {
                bigEndian[i] = bytes[bytes.length - 1 - i];
            }
            return new BigInteger(1, bigEndian);
        }
    }

    /** An X25519 private key: its clamped scalar. */
    private static final class X25519PrivateKey extends X25519Key implements XECPrivateKey {
        private static final long serialVersionUID = 1L;

        X25519PrivateKey(byte[] scalar) {
            super(scalar, PKCS8_PREFIX, "PKCS#8");
        }

        @Override
        public Optional<byte[]> getScalar() {
            return Optional.of(bytes.clone());
        }
    }
}
