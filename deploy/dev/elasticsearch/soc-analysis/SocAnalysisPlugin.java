// A stand-in for the part of Elasticsearch's analysis-common module that the SOC search index
// uses. Maven Central serves no analysis-common jar for 7.17 (nor lang-painless), and without it
// a 7.17 node built from Maven Central jars knows only the standard tokenizer. This module gives
// the dev/test server the same names and settings as analysis-common for what we use, each a thin
// wrapper of the Lucene class analysis-common wraps, so mappings written against it work
// unchanged on a full Elasticsearch distribution:
//   tokenizers  pattern (pattern, flags, group), edge_ngram (min_gram, max_gram, token_chars),
//               keyword, whitespace
//   filters     asciifolding (preserve_original; also in normalizers), edge_ngram (min_gram,
//               max_gram, preserve_original)
// (lowercase is built into the server.) deploy/dev/elasticsearch.sh compiles it with javac
// against the server's jars when it installs the server; it is never shipped.
package soc.dev.es;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.core.KeywordTokenizer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.miscellaneous.ASCIIFoldingFilter;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenFilter;
import org.apache.lucene.analysis.ngram.EdgeNGramTokenizer;
import org.apache.lucene.analysis.pattern.PatternTokenizer;
import org.elasticsearch.common.regex.Regex;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.index.analysis.NormalizingTokenFilterFactory;
import org.elasticsearch.index.analysis.TokenFilterFactory;
import org.elasticsearch.index.analysis.TokenizerFactory;
import org.elasticsearch.indices.analysis.AnalysisModule.AnalysisProvider;
import org.elasticsearch.plugins.AnalysisPlugin;
import org.elasticsearch.plugins.Plugin;

public class SocAnalysisPlugin extends Plugin implements AnalysisPlugin {

    @Override
    public Map<String, AnalysisProvider<TokenizerFactory>> getTokenizers() {
        Map<String, AnalysisProvider<TokenizerFactory>> m = new TreeMap<>();
        m.put("pattern", (index, env, name, s) -> {
            // Compiled once per index: Pattern is immutable, each tokenizer gets its own Matcher.
            Pattern p = Regex.compile(s.get("pattern", "\\W+"), s.get("flags"));
            int group = s.getAsInt("group", -1);
            return TokenizerFactory.newFactory(name, () -> new PatternTokenizer(p, group));
        });
        m.put("edge_ngram", (index, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1), max = s.getAsInt("max_gram", 2);
            List<String> chars = s.getAsList("token_chars");
            for (String c : chars) {
                if (!List.of("letter", "digit", "whitespace", "punctuation", "symbol").contains(c)) {
                    throw new IllegalArgumentException("Unknown token type: '" + c + "' in [" + name + "]");
                }
            }
            return TokenizerFactory.newFactory(name, () -> chars.isEmpty()
                ? new EdgeNGramTokenizer(min, max)
                : new EdgeNGramTokenizer(min, max) {
                    @Override
                    protected boolean isTokenChar(int c) {
                        return tokenChar(chars, c);
                    }
                });
        });
        m.put("keyword", (index, env, name, s) -> TokenizerFactory.newFactory(name, KeywordTokenizer::new));
        m.put("whitespace", (index, env, name, s) -> TokenizerFactory.newFactory(name, WhitespaceTokenizer::new));
        return m;
    }

    @Override
    public Map<String, AnalysisProvider<TokenFilterFactory>> getTokenFilters() {
        Map<String, AnalysisProvider<TokenFilterFactory>> m = new TreeMap<>();
        m.put("asciifolding", (index, env, name, s) -> {
            boolean keep = s.getAsBoolean("preserve_original", false);
            return new NormalizingTokenFilterFactory() {
                @Override
                public String name() {
                    return name;
                }

                @Override
                public TokenStream create(TokenStream in) {
                    return new ASCIIFoldingFilter(in, keep);
                }

                @Override
                public TokenStream normalize(TokenStream in) {
                    // Normalizers see one token: keeping the original would index two.
                    return new ASCIIFoldingFilter(in, false);
                }
            };
        });
        m.put("edge_ngram", (index, env, name, s) -> {
            int min = s.getAsInt("min_gram", 1), max = s.getAsInt("max_gram", 2);
            boolean keep = s.getAsBoolean("preserve_original", false);
            return filter(name, in -> new EdgeNGramTokenFilter(in, min, max, keep));
        });
        return m;
    }

    private interface Wrap {
        TokenStream apply(TokenStream in);
    }

    private static TokenFilterFactory filter(String name, Wrap wrap) {
        return new TokenFilterFactory() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public TokenStream create(TokenStream in) {
                return wrap.apply(in);
            }
        };
    }

    // The character classes of analysis-common's token_chars.
    private static boolean tokenChar(List<String> chars, int c) {
        int t = Character.getType(c);
        return chars.contains("letter") && Character.isLetter(c)
            || chars.contains("digit") && Character.isDigit(c)
            || chars.contains("whitespace") && Character.isWhitespace(c)
            || chars.contains("punctuation") && (t == Character.START_PUNCTUATION || t == Character.END_PUNCTUATION
                || t == Character.DASH_PUNCTUATION || t == Character.CONNECTOR_PUNCTUATION
                || t == Character.INITIAL_QUOTE_PUNCTUATION || t == Character.FINAL_QUOTE_PUNCTUATION
                || t == Character.OTHER_PUNCTUATION)
            || chars.contains("symbol") && (t == Character.MATH_SYMBOL || t == Character.CURRENCY_SYMBOL
                || t == Character.MODIFIER_SYMBOL || t == Character.OTHER_SYMBOL);
    }
}
