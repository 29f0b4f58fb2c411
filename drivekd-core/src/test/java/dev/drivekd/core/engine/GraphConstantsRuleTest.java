package dev.drivekd.core.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.source.tree.CompilationUnitTree;
import com.sun.source.tree.MethodInvocationTree;
import com.sun.source.util.JavacTask;
import com.sun.source.util.TreePathScanner;
import com.sun.source.util.Trees;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import javax.lang.model.element.Element;
import javax.lang.model.element.ExecutableElement;
import javax.lang.model.element.TypeElement;
import javax.lang.model.type.TypeMirror;
import javax.lang.model.util.Types;
import javax.tools.Diagnostic;
import javax.tools.DiagnosticCollector;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The library's sources make no graph constant with DJL's {@code x.mul(2f)} family: such a constant
 * lives in a Java buffer that the garbage collector frees while autograd still holds it (the
 * trainer's nondeterminism of session 2, see docs/training.md). {@link Scalars} makes them in
 * libtorch's memory instead ({@code add} and {@code sub} save nothing for backward and are not
 * checked). A line that provably builds no graph (an optimizer update, a mask) may say so with
 * {@code // no graph}.
 *
 * <p>The rule compiles the sources with javac and looks at every resolved call of {@code
 * mul/div/maximum/minimum/pow(Number)} on an {@code NDArray}, so a variable, a field or an
 * expression of a number type is caught as surely as a literal.
 */
class GraphConstantsRuleTest {

  private static final Set<String> SAVED_FOR_BACKWARD =
      Set.of("mul", "div", "maximum", "minimum", "pow");

  @TempDir Path tmp;

  @Test
  void libraryCodeMakesNoGraphConstantFromAJavaNumber() throws IOException {
    Path root = Path.of(System.getProperty("drivekd.project.dir", ".."));
    List<Path> files = new ArrayList<>();
    try (Stream<Path> modules = Files.list(root)) {
      for (Path module :
          modules
              .filter(p -> p.getFileName().toString().startsWith("drivekd-"))
              // the Spark job runs teacher forwards only (no graph) and compiles against Spark
              // and the examples, which this module's class path lacks
              .filter(p -> !p.getFileName().toString().equals("drivekd-spark"))
              .toList()) {
        Path sources = module.resolve("src/main/java");
        if (Files.isDirectory(sources)) {
          try (Stream<Path> walk = Files.walk(sources)) {
            walk.filter(p -> p.toString().endsWith(".java")).forEach(files::add);
          }
        }
      }
    }
    assertTrue(files.size() > 50, "the library's sources were not found under " + root);
    List<String> offenders = offenders(files);
    assertTrue(
        offenders.isEmpty(),
        "use Scalars.mul/div/maximum (or mark a line that builds no graph with // no graph):\n"
            + String.join("\n", offenders));
  }

  /** The rule sees through variables, fields and casts, and passes array arguments and markers. */
  @Test
  void theRuleSeesNumberArgumentsOfAnyForm() throws IOException {
    Path file = tmp.resolve("Sample.java");
    Files.writeString(
        file,
        String.join(
            "\n",
            "import ai.djl.ndarray.NDArray;",
            "class Sample {",
            "  private final float scale = 2f;",
            "  NDArray f(NDArray x, NDArray y, double s, int n) {",
            "    NDArray a = x.mul(s);", // a variable
            "    NDArray b = a.div(scale);", // a field
            "    NDArray c = b.pow(n + 1);", // an expression
            "    NDArray d = c.maximum((float) s);", // a cast
            "    NDArray e = d.mul(y).div(y).add(3f).sub(s);", // arrays; add/sub save nothing
            "    return e.mul(0.5f); // no graph",
            "  }",
            "}"),
        StandardCharsets.UTF_8);
    List<String> offenders = offenders(List.of(file));
    assertEquals(4, offenders.size(), String.join("\n", offenders));
    for (int line = 5; line <= 8; line++) {
      int l = line;
      assertTrue(offenders.stream().anyMatch(o -> o.contains(":" + l + ":")), "line " + l);
    }
  }

  /** Every call of a saved-for-backward op with a {@code Number} argument, as file:line: source. */
  private static List<String> offenders(List<Path> files) throws IOException {
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    DiagnosticCollector<JavaFileObject> diagnostics = new DiagnosticCollector<>();
    try (StandardJavaFileManager fm =
        javac.getStandardFileManager(diagnostics, null, StandardCharsets.UTF_8)) {
      JavacTask task =
          (JavacTask)
              javac.getTask(
                  null,
                  fm,
                  diagnostics,
                  List.of(
                      "-proc:none", "-implicit:none", "-cp", System.getProperty("java.class.path")),
                  null,
                  fm.getJavaFileObjectsFromPaths(files));
      Iterable<? extends CompilationUnitTree> units = task.parse();
      task.analyze();
      List<String> errors = new ArrayList<>();
      for (Diagnostic<? extends JavaFileObject> d : diagnostics.getDiagnostics()) {
        if (d.getKind() == Diagnostic.Kind.ERROR) {
          errors.add(d.toString());
        }
      }
      assertTrue(errors.isEmpty(), "the rule needs the sources to compile:\n" + errors);
      Trees trees = Trees.instance(task);
      Types types = task.getTypes();
      TypeElement ndArray = task.getElements().getTypeElement("ai.djl.ndarray.NDArray");
      TypeMirror number = task.getElements().getTypeElement("java.lang.Number").asType();
      List<String> out = new ArrayList<>();
      for (CompilationUnitTree unit : units) {
        List<String> lines = sourceLines(unit);
        new TreePathScanner<Void, Void>() {
          @Override
          public Void visitMethodInvocation(MethodInvocationTree call, Void unused) {
            Element e = trees.getElement(getCurrentPath());
            if (e instanceof ExecutableElement m
                && SAVED_FOR_BACKWARD.contains(m.getSimpleName().toString())
                && m.getParameters().size() == 1
                && types.isSameType(m.getParameters().get(0).asType(), number)
                && types.isSubtype(
                    types.erasure(m.getEnclosingElement().asType()),
                    types.erasure(ndArray.asType()))) {
              long start = trees.getSourcePositions().getStartPosition(unit, call);
              int line = (int) unit.getLineMap().getLineNumber(start);
              String text = lines.get(line - 1).trim();
              if (!text.contains("// no graph")) {
                out.add(unit.getSourceFile().getName() + ":" + line + ": " + text);
              }
            }
            return super.visitMethodInvocation(call, unused);
          }
        }.scan(unit, null);
      }
      return out;
    }
  }

  private static List<String> sourceLines(CompilationUnitTree unit) {
    try {
      return List.of(unit.getSourceFile().getCharContent(true).toString().split("\n", -1));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
