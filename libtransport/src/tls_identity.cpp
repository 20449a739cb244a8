#include <izypop3/transport/tls_identity.hpp>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <boost/system/errc.hpp>

#include <fstream>
#include <memory>
#include <sstream>

namespace izypop3::transport {
namespace {

template <class T, void (*Free)(T*)>
struct openssl_deleter {
    void operator()(T* p) const noexcept { Free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_deleter<EVP_PKEY, EVP_PKEY_free>>;
using x509_ptr = std::unique_ptr<X509, openssl_deleter<X509, X509_free>>;
using bio_ptr = std::unique_ptr<BIO, openssl_deleter<BIO, BIO_free_all>>;

std::string bio_text(BIO* bio) {
    char* data = nullptr;
    const long len = BIO_get_mem_data(bio, &data);
    return std::string(data, static_cast<std::size_t>(len));
}

std::string hex_fingerprint(X509* cert) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    X509_digest(cert, EVP_sha256(), md, &len);
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        if (i) out += ':';
        out += digits[md[i] >> 4];
        out += digits[md[i] & 15];
    }
    return out;
}

boost::system::error_code failure() {
    return make_error_code(boost::system::errc::invalid_argument);
}

bool add_extension(X509* cert, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (!ext) return false;
    const bool ok = X509_add_ext(cert, ext, -1) == 1;
    X509_EXTENSION_free(ext);
    return ok;
}

}  // namespace

boost::system::result<tls_identity> make_self_signed_identity(std::string_view host_name) {
    pkey_ptr key(EVP_EC_gen("P-256"));
    if (!key) return failure();
    x509_ptr cert(X509_new());
    if (!cert) return failure();
    X509_set_version(cert.get(), 2);
    unsigned char serial[16];
    // Two certificates from one issuer name must not share a serial; random ones never do.
    if (RAND_bytes(serial, sizeof serial) != 1) return failure();
    serial[0] &= 0x7f;
    BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get()));
    BN_free(bn);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 3600);
    X509_set_pubkey(cert.get(), key.get());
    const std::string cn(host_name.empty() ? std::string_view("localhost") : host_name);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("izypop3 self-signed"), -1,
                               -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(cert.get(), name);
    std::string san = "DNS:" + cn;
    if (cn != "localhost") san += ",DNS:localhost";
    san += ",IP:127.0.0.1,IP:::1";
    if (!add_extension(cert.get(), NID_subject_alt_name, san) ||
        !add_extension(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
        !add_extension(cert.get(), NID_ext_key_usage, "serverAuth"))
        return failure();
    if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return failure();

    tls_identity id;
    bio_ptr cbio(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509(cbio.get(), cert.get());
    id.certificate_pem = bio_text(cbio.get());
    bio_ptr kbio(BIO_new(BIO_s_mem()));
    PEM_write_bio_PrivateKey(kbio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    id.private_key_pem = bio_text(kbio.get());
    id.fingerprint_sha256 = hex_fingerprint(cert.get());
    return id;
}

std::string fingerprint_of(std::string_view certificate_pem) {
    bio_ptr bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())));
    x509_ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    return cert ? hex_fingerprint(cert.get()) : std::string();
}

boost::system::result<tls_identity> load_identity(const std::string& cert_file,
                                                  const std::string& key_file,
                                                  std::string& error_text) {
    auto slurp = [&](const std::string& path, std::string& out) {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            error_text = "cannot read " + path + "; check the path and its permissions";
            return false;
        }
        std::ostringstream ss;
        ss << in.rdbuf();
        out = ss.str();
        return true;
    };
    tls_identity id;
    if (!slurp(cert_file, id.certificate_pem) || !slurp(key_file, id.private_key_pem))
        return failure();
    id.fingerprint_sha256 = fingerprint_of(id.certificate_pem);
    if (id.fingerprint_sha256.empty()) {
        error_text = cert_file + " holds no PEM certificate";
        return failure();
    }
    return id;
}

}  // namespace izypop3::transport
