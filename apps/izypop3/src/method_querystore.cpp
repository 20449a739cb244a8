// method querystore: inspect a message store (what the original left to a dashboard app).

#include "methods.hpp"
#include "option_types.hpp"

namespace izypop3::app {

namespace po = boost::program_options;

po::options_description querystore_options() {
    po::options_description d("querystore");
    d.add_options()
        ("query.tags", po::value<std::vector<std::string>>()->composing()->value_name("TAG,..."),
         "items must carry every one of these tags; comma-separated or repeated; none = no "
         "tag filter")
        ("query.limit", po::value<count_value>()->default_value(count_value{10})->value_name("N"),
         "list at most this many items (0 = only count them)")
        ("query.order", po::value<choice<order_names>>()->default_value(choice<order_names>{"asc"})->value_name("asc|desc"),
         "the store's insertion order, or its reverse")
        ("format", po::value<choice<format_names>>()->default_value(choice<format_names>{"text"})->value_name("text|json"),
         "output format");
    return d;
}

int run_querystore(const invocation& /*inv*/, std::ostream& /*out*/, std::ostream& err) {
    return not_built(err, "method querystore",
                     "coming with the store work; 'method test testtype mimestore' prints a "
                     "query today");
}

}  // namespace izypop3::app
